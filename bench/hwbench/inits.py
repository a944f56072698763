"""The inits under test: how each one is configured, booted as PID 1 and shut down.

Every init runs the same generated services: `run` scripts that record their PID in the shared
pids directory and exec sleep (service_script). Supervising inits (heartwood, s6, runit) get a
set of services; container inits (tini, dumb-init, catatonit) supervise nothing and run one
service as their single child.

An adapter provides:
  available()               None, or why it cannot run here
  prepare(dir, services, readiness, pids_dir)
                            writes its configuration under dir for `services` (names)
  boot(ns_factory)          a Namespace (not started) running it as PID 1
  shutdown(ns)              asks PID 1 for an orderly shutdown (the init's own way)
"""
import os
import shutil
import time

from .namespace import Namespace

SLEEP = 1000000


def service_script(pids_dir, name, crash=False):
    """The service: records its PID, then becomes sleep (or, crashing, exits 1 at once).
    Under s6 with a notification-fd file (s6's readiness) it also says it is ready."""
    lines = ["#!/bin/sh", f"echo $$ > {pids_dir}/{name}"]
    if crash:
        lines.append("exit 1")
    else:
        lines.append("if [ -e notification-fd ]; then echo >&3; exec 3>&-; fi")
        lines.append(f"exec sleep {SLEEP}")
    return "\n".join(lines) + "\n"


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def backdate(*paths):
    """Sets mtimes an hour back: a boot finds configuration written long before (runsvdir
    waits a second before scanning a directory modified within the current second)."""
    t = time.time() - 3600
    for p in paths:
        os.utime(p, (t, t), follow_symlinks=False)


def base_env(extra_path=None):
    path = "/usr/sbin:/usr/bin:/sbin:/bin"
    if extra_path:
        path = extra_path + ":" + path
    return {"PATH": path, "LANG": "C"}


class Init:
    name = "?"
    supervises = True
    backoff = True          # restarts a crashing service with a delay (S3's crash loop)
    is_init = True          # False: a reference for the timings only (no S1, S7)
    pid1_comm = "?"
    packages = ()
    programs = ()

    def __init__(self, bench):
        self.bench = bench      # the Bench (work dir, pids dir)
        self.dir = None
        self.services = []

    def available(self):
        missing = [p for p in self.programs if not shutil.which(p)]
        if missing:
            pkgs = ", ".join(self.packages)
            return f"not available: {' '.join(missing)} not installed (Debian package {pkgs})"
        return None

    def script(self, name):
        return service_script(self.pids_dir, name, crash=name.startswith("crash"))

    def prepare(self, directory, services, readiness=False, pids_dir=None):
        if os.path.exists(directory):
            shutil.rmtree(directory)
        os.makedirs(directory)
        self.dir = directory
        self.pids_dir = pids_dir or self.bench.pids_dir
        self.services = list(services)
        self.readiness = readiness
        self.write_config()

    def write_config(self):
        raise NotImplementedError

    def setup_lines(self):
        return []

    def argv(self):
        raise NotImplementedError

    def env(self):
        return base_env()

    def boot(self, label=None):
        return Namespace(label or self.name, os.path.join(self.dir, "console.log"),
                         self.setup_lines(), self.argv(), self.env())

    def shutdown(self, ns):
        raise NotImplementedError


class S6(Init):
    """s6-svscan as PID 1 on a scandir (what s6-overlay does in containers). Shutdown: SIGTERM
    (tears the supervision tree down, waits for the supervisors, exits)."""
    name = "s6"
    pid1_comm = "s6-svscan"
    packages = ("s6",)
    programs = ("s6-svscan", "s6-supervise")

    def write_config(self):
        scan = os.path.join(self.dir, "scan")
        os.makedirs(scan)
        for s in self.services:
            d = os.path.join(scan, s)
            os.makedirs(d)
            write_exec(os.path.join(d, "run"), self.script(s))
            if self.readiness and not s.startswith("crash"):
                with open(os.path.join(d, "notification-fd"), "w") as f:
                    f.write("3\n")
            backdate(d)
        backdate(scan)

    def argv(self):
        return ["s6-svscan", "-c", str(max(1000, 2 * len(self.services) + 16)),
                os.path.join(self.dir, "scan")]

    def shutdown(self, ns):
        import signal
        ns.signal_pid1(signal.SIGTERM)


class Runit(Init):
    """runit as PID 1 (Debian's /sbin/runit) with its own /etc/runit bound over the host's in
    the namespace: stage 1 only makes /run/runit.stopit (executable), stage 2 is runsvdir on
    the services, stage 3 stops them as Debian's does (sv force-stop; sv exit). Shutdown:
    SIGCONT to PID 1."""
    name = "runit"
    pid1_comm = "runit"
    packages = ("runit",)
    programs = ("runit", "runsvdir", "runsv", "sv")

    def available(self):
        why = super().available()
        if why:
            return why
        if not os.path.isdir("/etc/runit"):
            return "not available: /etc/runit missing (Debian package runit)"
        return None

    def write_config(self):
        etc = os.path.join(self.dir, "etc-runit")
        svdir = os.path.join(self.dir, "service")
        os.makedirs(etc)
        os.makedirs(svdir)
        # Stage 1 makes the stop file as Debian's does, executable: SIGCONT then shuts down.
        write_exec(os.path.join(etc, "1"), "#!/bin/sh\ninstall -m 100 /dev/null /run/runit.stopit\n")
        write_exec(os.path.join(etc, "2"), f"#!/bin/sh\nexec runsvdir -P {svdir}\n")
        write_exec(os.path.join(etc, "3"),
                   f"#!/bin/sh\nsv force-stop {svdir}/* >/dev/null\nsv exit {svdir}/* >/dev/null\n")
        for s in self.services:
            d = os.path.join(svdir, s)
            os.makedirs(d)
            write_exec(os.path.join(d, "run"), self.script(s))
            backdate(d)
        backdate(svdir)

    def setup_lines(self):
        return [f"mount --bind '{self.dir}/etc-runit' /etc/runit"]

    def argv(self):
        return ["runit"]

    def shutdown(self, ns):
        import signal
        ns.signal_pid1(signal.SIGCONT)


class Runsvdir(Runit):
    """runit's runsvdir itself as PID 1, as containers often run it (no stages). It has no
    orderly shutdown: SIGHUP sends TERM to each runsv and exits at once, SIGTERM just exits."""
    name = "runsvdir"
    pid1_comm = "runsvdir"
    programs = ("runsvdir", "runsv")

    def available(self):
        return Init.available(self)

    def setup_lines(self):
        return []

    def argv(self):
        return ["runsvdir", "-P", os.path.join(self.dir, "service")]

    def shutdown(self, ns):
        raise NotImplementedError("runsvdir has no orderly shutdown")


class ContainerInit(Init):
    """A container init: PID 1 with one child, the (single) service."""
    supervises = False

    def write_config(self):
        name = self.services[0] if self.services else "main"
        write_exec(os.path.join(self.dir, "main"), self.script(name))

    def child(self):
        return [os.path.join(self.dir, "main")]

    def shutdown(self, ns):
        import signal
        ns.signal_pid1(signal.SIGTERM)


class Tini(ContainerInit):
    name = "tini"
    pid1_comm = "tini"
    packages = ("tini",)
    programs = ("tini",)

    def argv(self):
        return ["tini", "--"] + self.child()


class DumbInit(ContainerInit):
    name = "dumb-init"
    pid1_comm = "dumb-init"
    packages = ("dumb-init",)
    programs = ("dumb-init",)

    def argv(self):
        return ["dumb-init"] + self.child()


class Catatonit(ContainerInit):
    name = "catatonit"
    pid1_comm = "catatonit"
    packages = ("catatonit",)
    programs = ("catatonit",)

    def argv(self):
        return ["catatonit", "--"] + self.child()


class Floor(Init):
    """Not an init: bench-floor (bench/floor.cpp) as PID 1 runs each service and runs it again
    the moment it ends, doing nothing else (no backoff: it is left out of the crash loop). Its
    column is what the machine needs for the services themselves; its memory and idle wake-ups
    say nothing about inits and are not measured (S1, S7). Shutdown: SIGTERM."""
    name = "floor"
    pid1_comm = "bench-floor"
    backoff = False
    is_init = False

    def __init__(self, bench, binary):
        super().__init__(bench)
        self.binary = binary

    def available(self):
        if not os.access(self.binary, os.X_OK):
            return f"not available: {self.binary} not built"
        return None

    def write_config(self):
        root = os.path.join(self.dir, "services")
        for s in self.services:
            os.makedirs(os.path.join(root, s))
            write_exec(os.path.join(root, s, "run"), self.script(s))

    def argv(self):
        return [self.binary, os.path.join(self.dir, "services")]

    def shutdown(self, ns):
        import signal
        ns.signal_pid1(signal.SIGTERM)


HEARTWOOD_PROGRAMS = (("system-manager", "daemon"), ("system-logger", "daemon"),
                      ("service-manager", "daemon"), ("system-control", "ctl"))


class Heartwood(Init):
    """system-manager as PID 1 with this build's programs first in PATH. Bundles: targets
    sysinit, normal (wants every service), poweroff/halt/reboot (conflict with every service,
    then ask PID 1 for the final stop). Shutdown: SIGTERM (the container's poweroff).

    Without the real service-manager or system-control in the build, small stand-ins take
    their place (bench/standins: they answer PID 1 and supervise nothing), and only what does
    not need services is measured; `missing` names the absent programs."""
    name = "heartwood"
    pid1_comm = "system-manager"

    def __init__(self, bench, build_dir, standins_dir, bin_dirs=()):
        super().__init__(bench)
        self.build_dir = build_dir
        self.standins = standins_dir
        self.found = {}
        for prog, sub in HEARTWOOD_PROGRAMS:
            for d in list(bin_dirs) + [os.path.join(build_dir, sub)]:
                p = os.path.join(d, prog)
                if os.path.isfile(p) and os.access(p, os.X_OK):
                    self.found[prog] = os.path.realpath(p)
                    break
        self.missing = [p for p, _ in HEARTWOOD_PROGRAMS if p not in self.found]
        self.full = not self.missing

    def available(self):
        for prog in ("system-manager", "system-logger"):
            if prog not in self.found:
                return f"not available: {prog} missing from {self.build_dir}"
        return None

    def services_missing(self):
        """None when services can be measured, else the reason."""
        if self.full:
            return None
        return "not available: " + ", ".join(self.missing) + " missing from the build"

    def write_config(self):
        bindir = os.path.join(self.dir, "bin")
        os.makedirs(bindir)
        for prog, _ in HEARTWOOD_PROGRAMS:
            src = self.found.get(prog) or os.path.join(self.standins, prog)
            os.symlink(src, os.path.join(bindir, prog))
        root = os.path.join(self.dir, "bundles")
        services = os.path.join(root, "services")
        targets = os.path.join(root, "targets")
        os.makedirs(services)
        os.makedirs(targets)
        for s in self.services:
            d = os.path.join(services, s, "service")
            os.makedirs(d)
            write_exec(os.path.join(d, "run"), self.script(s))

        def target(name, run="true", wants=(), conflicts=()):
            d = os.path.join(targets, name)
            sd = os.path.join(d, "service")
            os.makedirs(sd)
            for prog in ("start", "stop", "restart"):
                write_exec(os.path.join(sd, prog), "#!/bin/sh\ntrue\n")
            write_exec(os.path.join(sd, "run"), f"#!/bin/sh\nexec {run}\n")
            open(os.path.join(sd, "remain"), "w").close()
            for kind, names in (("wants", wants), ("conflicts", conflicts),
                                ("after", conflicts)):
                if names:
                    os.makedirs(os.path.join(d, kind))
                for n in names:
                    os.symlink(f"../../../services/{n}", os.path.join(d, kind, n))

        target("sysinit")
        target("normal", wants=self.services)
        for final in ("poweroff", "halt", "reboot"):
            target(final, run=f"system-control {final} --force", conflicts=self.services)

    def env(self):
        e = base_env(os.path.join(self.dir, "bin"))
        e["HEARTWOOD_LOG_DIRS"] = os.path.join(self.dir, "log")
        e["HEARTWOOD_BUNDLE_PATH"] = os.path.join(self.dir, "bundles")
        # Process groups, as in the e2e tests: in a user namespace mapped to root, cgroups
        # would be made in the host's cgroup tree.
        e["HEARTWOOD_NO_CGROUPS"] = "1"
        return e

    def argv(self):
        return ["system-manager"]

    def shutdown(self, ns):
        import signal
        ns.signal_pid1(signal.SIGTERM)
