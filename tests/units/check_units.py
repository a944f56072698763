#!/usr/bin/env python3
"""check_units: the units/ bundles are well formed and their graph orders boot and shutdown.

Usage: check_units.py SOURCE-ROOT
Builds a sysroot in a temp dir (units/ copied to /usr/share/service-bundles, fstab-bundles run
on a sample fstab into /etc/service-bundles, serial-gettys run on a sample console list into
/run/service-bundles as at boot), resolves every link inside that sysroot, and
checks: bundle layout and scripts (sh -n under dash and busybox sh), install-time links match the
run-time ones, and, computing jobs the way system-control does (ctl/plan.hpp: wants/, requires/ and
conflicts/ for starts, required-by/ and requires/ for stops; after/ and before/ order bundles in the job, with
the order between two stops reversed), that the jobs have no ordering cycle and that key
orderings hold. Prints one line per failure and exits 1 if any.
"""
import os
import shutil
import subprocess
import sys
import tempfile

failures = []


def fail(msg):
    failures.append(msg)
    print(f"FAIL: {msg}")


REL = ["wants", "requires", "conflicts", "required-by", "after", "before", "wanted-by",
       "stopped-by"]
SAMPLE_FSTAB = """# sample
/dev/vda1 / ext4 defaults 0 1
/dev/vdb /srv ext4 defaults 0 2
tmpfs /srv/cache tmpfs mode=0755 0 0
/dev/vdc none swap sw 0 0
"""


class Sysroot:
    def __init__(self, root):
        self.root = root

    def resolve(self, path, depth=0):
        """Physical path of `path` (a sysroot-relative absolute path), following links inside."""
        if depth > 40:
            raise OSError("too many links")
        parts = [p for p in path.split("/") if p]
        cur = "/"
        for i, part in enumerate(parts):
            nxt = os.path.normpath(os.path.join(cur, part))
            real = self.root + nxt
            if os.path.islink(real):
                target = os.readlink(real)
                base = target if target.startswith("/") else os.path.join(cur, target)
                cur = self.resolve(base, depth + 1)
            else:
                cur = nxt
        return cur

    def exists_dir(self, path):
        return os.path.isdir(self.root + path)


def bundles_in(sr, d):
    out = {}
    full = sr.root + d
    for n in sorted(os.listdir(full)) if os.path.isdir(full) else []:
        out[n] = d + "/" + n
    return out


def check_layout(sr, path, name, shells):
    svc = path + "/service"
    if not sr.exists_dir(svc):
        fail(f"{name}: no service/ directory")
        return
    sup = sr.root + path + "/supervise"
    if not os.path.islink(sup) or os.readlink(sup) != f"/run/service-bundles/early-supervise/{name}":
        fail(f"{name}: supervise is not a link to /run/service-bundles/early-supervise/{name}")
    for prog in ["start", "run", "stop", "restart"]:
        f = sr.root + svc + "/" + prog
        if not os.path.isfile(f) or not os.access(f, os.X_OK):
            fail(f"{name}: service/{prog} is missing or not executable")
            continue
        with open(f) as fh:
            if fh.readline().strip() != "#!/bin/sh":
                fail(f"{name}: service/{prog} does not start with #!/bin/sh")
        for sh in shells:
            r = subprocess.run(sh + ["-n", f], capture_output=True, text=True)
            if r.returncode != 0:
                fail(f"{name}: service/{prog}: {' '.join(sh)} -n: {r.stderr.strip()}")
    for d in REL:
        p = sr.root + path + "/" + d
        if os.path.exists(p) and not os.path.isdir(p):
            fail(f"{name}: {d} is not a directory")
            continue
        for e in sorted(os.listdir(p)) if os.path.isdir(p) else []:
            if not os.path.islink(p + "/" + e):
                fail(f"{name}: {d}/{e} is not a symlink")
            tgt = sr.resolve(path + "/" + d + "/" + e)
            if not sr.exists_dir(tgt):
                fail(f"{name}: {d}/{e} does not lead to a bundle directory")
            elif os.path.basename(tgt) != e:
                fail(f"{name}: {d}/{e} leads to a bundle named {os.path.basename(tgt)}")


def rel(sr, path, d):
    """Physical paths of the bundles in path/d."""
    p = sr.root + path + "/" + d
    if not os.path.isdir(p):
        return []
    return [sr.resolve(path + "/" + d + "/" + e) for e in sorted(os.listdir(p))
            if not e.startswith(".")]


def job(sr, starts, bundles):
    """Returns {path: 'start'|'stop'} as system-control computes the closure (ctl/plan.hpp):
    start X starts X/wants/, X/requires/ and every Y with X in Y/required-by/, and stops
    X/conflicts/; stop X stops X/required-by/ and every Y with X in Y/requires/."""
    want = {}
    todo = [(sr.resolve(s), "start") for s in starts]
    while todo:
        p, w = todo.pop()
        if p in want:
            if want[p] != w:
                fail(f"job {starts}: {p} is both started and stopped")
            continue
        want[p] = w
        if w == "start":
            todo += [(q, "start") for q in rel(sr, p, "wants") + rel(sr, p, "requires")]
            todo += [(y, "start") for y in bundles if p in rel(sr, y, "required-by")]
            todo += [(q, "stop") for q in rel(sr, p, "conflicts")]
        else:
            todo += [(q, "stop") for q in rel(sr, p, "required-by")]
            todo += [(y, "stop") for y in bundles if p in rel(sr, y, "requires")]
    return want


def waits(sr, want):
    """Edges a -> b meaning b acts only once a is done."""
    edges = {p: set() for p in want}
    for a, wa in want.items():
        for b in rel(sr, a, "after"):
            if b not in want:
                continue
            if wa == "stop" and want[b] == "stop":
                edges[a].add(b)  # reversed: b waits for a
            else:
                edges[b].add(a)  # a waits for b
        for b in rel(sr, a, "before"):
            if b not in want:
                continue
            if wa == "stop" and want[b] == "stop":
                edges[b].add(a)  # reversed: a waits for b
            else:
                edges[a].add(b)  # b waits for a
    return edges


def find_cycle(edges):
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in edges[n]:
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                c = visit(m)
                if c:
                    return c
        state[n] = 2
        stack.pop()
        return None

    for n in edges:
        if n not in state:
            c = visit(n)
            if c:
                return c
    return None


def reaches(edges, a, b):
    seen, todo = set(), [a]
    while todo:
        n = todo.pop()
        if n == b:
            return True
        if n in seen:
            continue
        seen.add(n)
        todo += list(edges[n])
    return False


def main():
    src = sys.argv[1]
    shells = [["dash"]] if shutil.which("dash") else []
    if os.path.exists("/bin/busybox"):
        shells.append(["/bin/busybox", "sh"])
    tmp = tempfile.mkdtemp(prefix="check-units.")
    try:
        share = tmp + "/usr/share/service-bundles"
        os.makedirs(share)
        for d in ["targets", "services"]:
            shutil.copytree(f"{src}/units/{d}", f"{share}/{d}", symlinks=True)
        with open(tmp + "/fstab", "w") as f:
            f.write(SAMPLE_FSTAB)
        subprocess.run([f"{src}/tools/fstab-bundles", "--fstab", tmp + "/fstab", "--root",
                        tmp + "/etc/service-bundles"], check=True, capture_output=True)
        # What serial-getty-generator writes at boot with console=ttyS2 console=ttyS1
        # console=ttyS0 (console-getty serves ttyS0, the last one).
        with open(tmp + "/active", "w") as f:
            f.write("ttyS2 ttyS1 ttyS0\n")
        subprocess.run([f"{src}/tools/serial-gettys", "--active", tmp + "/active", "--root",
                        tmp + "/run/service-bundles"], check=True, capture_output=True)
        sr = Sysroot(tmp)
        T = "/usr/share/service-bundles/targets"
        S = "/usr/share/service-bundles/services"
        E = "/etc/service-bundles"
        R = "/run/service-bundles"
        if sr.exists_dir(R + "/services/serial-getty@ttyS0"):
            fail("serial-gettys made a getty on ttyS0, console-getty's console")
        all_bundles = {}
        for d in [T, S, E + "/targets", E + "/services", R + "/targets", R + "/services"]:
            all_bundles.update({p: n for n, p in bundles_in(sr, d).items()})
        for p, n in all_bundles.items():
            check_layout(sr, p, n, shells)

        targets = ("sysinit local-fs-pre local-fs swap basic multi-user normal server workstation"
                   " rescue emergency shutdown unmount halt poweroff reboot kexec").split()
        for t in targets:
            if not sr.exists_dir(f"{T}/{t}"):
                fail(f"target {t} is missing")
                continue
            if not os.path.exists(sr.root + f"{T}/{t}/service/remain"):
                fail(f"target {t}: no remain flag")
        for t in ["halt", "poweroff", "reboot", "kexec"]:
            with open(sr.root + f"{T}/{t}/service/run") as f:
                if f"system-control {t} --force" not in f.read():
                    fail(f"target {t}: run does not call system-control {t} --force")

        # Install-time links agree with the run-time ones (what `enable` would create).
        for p, n in all_bundles.items():
            for t in rel(sr, p, "wanted-by"):
                if p not in rel(sr, t, "wants"):
                    fail(f"{n}: wanted-by {os.path.basename(t)} but not in its wants/")
            for t in rel(sr, p, "stopped-by"):
                if p not in rel(sr, t, "conflicts") or p not in rel(sr, t, "after"):
                    fail(f"{n}: stopped-by {os.path.basename(t)} but not in its conflicts/+after/")
            for t in rel(sr, p, "requires"):
                if p not in rel(sr, t, "required-by"):
                    fail(f"{n}: requires {os.path.basename(t)} but not in its required-by/")

        def P(x):
            for base in [T, S, E + "/targets", E + "/services", R + "/targets", R + "/services"]:
                if sr.exists_dir(f"{base}/{x}"):
                    return sr.resolve(f"{base}/{x}")
            raise KeyError(x)

        def expect_order(jobname, edges, first, then):
            if not reaches(edges, P(first), P(then)):
                fail(f"job {jobname}: {then} does not wait for {first}")

        jobs = {
            "sysinit": ["sysinit"],
            "normal": ["normal"],
            "rescue": ["rescue"],
            "emergency": ["emergency"],
            "poweroff": ["poweroff"],
            "reboot": ["reboot"],
            "halt": ["halt"],
            "kexec": ["kexec"],
        }
        computed = {}
        for jn, starts in jobs.items():
            want = job(sr, [f"{T}/{s}" for s in starts], [sr.resolve(b) for b in all_bundles])
            edges = waits(sr, want)
            computed[jn] = (want, edges)
            cyc = find_cycle(edges)
            if cyc:
                fail(f"job {jn}: ordering cycle: {' -> '.join(os.path.basename(c) for c in cyc)}")

        want, edges = computed["normal"]
        for b in ["sysinit", "basic", "multi-user", "console-getty", "hostname", "loopback",
                  "remount-root", "mount@srv", "fsck@srv", "mount@srv-cache", "swap@dev-vdc",
                  "serial-gettys", "serial-getty@ttyS1", "serial-getty@ttyS2"]:
            if want.get(P(b)) != "start":
                fail(f"job normal does not start {b}")
        for a, b in [("hostname", "sysinit"), ("sysinit", "basic"), ("basic", "multi-user"),
                     ("console-getty", "multi-user"), ("multi-user", "normal"),
                     ("basic", "normal"), ("local-fs", "sysinit"), ("remount-root", "local-fs-pre"),
                     ("local-fs-pre", "mount@srv"), ("fsck@srv", "mount@srv"),
                     ("mount@srv", "mount@srv-cache"), ("mount@srv-cache", "local-fs"),
                     ("swap@dev-vdc", "swap"), ("local-fs", "random-seed"),
                     ("udev-trigger", "local-fs-pre"), ("basic", "serial-getty@ttyS1"),
                     ("serial-getty@ttyS1", "serial-gettys"), ("serial-gettys", "multi-user")]:
            expect_order("normal", edges, a, b)
        want, edges = computed["sysinit"]
        for a, b in [("serial-getty-generator", "sysinit")]:
            expect_order("sysinit", edges, a, b)
        want, edges = computed["emergency"]
        if P("sysinit") in want:
            fail("job emergency pulls in sysinit")
        if want.get(P("emergency-shell")) != "start" or want.get(P("console-getty")) != "stop":
            fail("job emergency does not start emergency-shell and stop console-getty")
        if want.get(P("serial-getty@ttyS1")) != "stop":
            fail("job emergency does not stop serial-getty@ttyS1")
        want, edges = computed["rescue"]
        if want.get(P("sysinit")) != "start" or want.get(P("rescue-shell")) != "start":
            fail("job rescue does not start sysinit and rescue-shell")
        if want.get(P("console-getty")) != "stop" or want.get(P("serial-getty@ttyS2")) != "stop":
            fail("job rescue does not stop console-getty and serial-getty@ttyS2")
        for jn in ["poweroff", "reboot", "halt", "kexec"]:
            want, edges = computed[jn]
            for b in ["console-getty", "normal", "random-seed", "mount@srv", "mount@srv-cache",
                      "swap@dev-vdc", "local-fs", "serial-gettys", "serial-getty@ttyS1"]:
                if want.get(P(b)) != "stop":
                    fail(f"job {jn} does not stop {b}")
            for a, b in [("console-getty", "shutdown"), ("random-seed", "shutdown"),
                         ("serial-getty@ttyS1", "shutdown"), ("serial-getty@ttyS2", "shutdown"),
                         ("shutdown", "kill-remaining"), ("kill-remaining", "unmount-all"),
                         ("kill-remaining", "mount@srv-cache"), ("kill-remaining", "swap@dev-vdc"),
                         ("local-fs", "kill-remaining"), ("swap", "kill-remaining"),
                         ("kill-remaining", "fstab-mounts"), ("kill-remaining", "fstab-swaps"),
                         ("mount@srv-cache", "mount@srv"), ("mount@srv", "unmount-all"),
                         ("swap@dev-vdc", "unmount-all"), ("unmount-all", "unmount"),
                         ("unmount", jn), ("shutdown", jn)]:
                expect_order(jn, edges, a, b)
    finally:
        shutil.rmtree(tmp)
    print(f"check_units: {len(failures)} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
