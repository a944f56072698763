"""Scenarios S1..S9. Each records samples with Bench.record(metric, init, value) or a reason
with Bench.unavailable(metric, init, text); the report turns them into medians (min, max).

Timing: time.monotonic_ns() on the host; CLOCK_MONOTONIC is the same inside the namespaces.
A service "runs" when its pid file is written (PidWatch, inotify). Every wait has a deadline.
"""
import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

from . import procs
from .inotify import PidWatch

NS = 1e9
MS = 1e6


class BenchError(RuntimeError):
    pass


def services(n, prefix="s"):
    return [f"{prefix}{i:04d}" for i in range(n)]


class Boot:
    def __init__(self, ns, watch, t0, t_up, names):
        self.ns, self.watch, self.t0, self.t_up, self.names = ns, watch, t0, t_up, names

    def service_host_pids(self):
        """{name: host pid} of the services, from their pid files."""
        m = self.ns.host_pid_map()
        out = {}
        for n in self.names:
            p = self.watch.pid_of(n)
            if p in m:
                out[n] = m[p]
        return out

    def split_processes(self):
        """(PID 1 + supervisors, services) as host pids: everything that is not a service."""
        svc = set(self.service_host_pids().values())
        ps = self.ns.processes()
        return [p for p in ps if p not in svc], [p for p in ps if p in svc]


class Bench:
    def __init__(self, opts, work, inits, heartwood, orphans_bin, source_dir, log):
        self.opts = opts
        self.work = work
        self.pids_dir = os.path.join(work, "pids")
        os.makedirs(self.pids_dir, exist_ok=True)
        self.inits = inits            # name -> Init (available ones)
        self.heartwood = heartwood
        self.orphans_bin = orphans_bin
        self.source_dir = source_dir
        self.log = log
        self.samples = {}             # metric -> init -> [values]
        self.notes = {}               # metric -> init -> text (why there is no number)

    # -- results --------------------------------------------------------------------------
    def record(self, metric, init, value):
        self.samples.setdefault(metric, {}).setdefault(init, []).append(value)

    def unavailable(self, metric, init, text):
        self.notes.setdefault(metric, {})[init] = text

    def supervisors(self):
        return [i for i in self.inits.values() if i.supervises]

    def service_inits(self, metric):
        """The supervising inits that can run services; notes heartwood's absence."""
        out = []
        for i in self.supervisors():
            if i is self.heartwood and self.heartwood.services_missing():
                self.unavailable(metric, i.name, self.heartwood.services_missing())
                continue
            out.append(i)
        return out

    # -- booting --------------------------------------------------------------------------
    @staticmethod
    def clear_pids(pids_dir):
        os.makedirs(pids_dir, exist_ok=True)
        for f in os.listdir(pids_dir):
            os.unlink(os.path.join(pids_dir, f))

    @contextlib.contextmanager
    def booted(self, init, names, readiness=False, up_timeout=60, label=None, pids_dir=None):
        """Boots `init` as PID 1 with services `names`; yields a Boot once all of them run
        (and PID 1 is found). The namespace is always torn down afterwards. The services
        write their pid files in pids_dir (default: the shared one)."""
        directory = os.path.join(self.work, "cfg", label or init.name)
        pids_dir = pids_dir or self.pids_dir
        init.prepare(directory, names, readiness, pids_dir)
        self.clear_pids(pids_dir)
        watch = PidWatch(pids_dir)
        ns = init.boot(label)
        try:
            t0 = ns.start()
            t_up = watch.wait_all(names, time.monotonic_ns() + int(up_timeout * NS))
            if t_up is None:
                up = sum(1 for n in names if os.path.exists(os.path.join(pids_dir, n)))
                raise BenchError(f"{init.name}: {up} of {len(names)} services ran within "
                                 f"{up_timeout}s (log: {ns.log_path})")
            ns.wait_comm(init.pid1_comm)
            yield Boot(ns, watch, t0, t_up, names)
        finally:
            watch.close()
            ns.stop()

    def settle(self, seconds):
        time.sleep(seconds)

    def guarded(self, metric, init, fn):
        """Runs one measurement; a failure becomes a note, not a number."""
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - any failure is reported in the table
            self.log(f"  {metric} {init.name}: FAILED: {e}")
            self.unavailable(metric, init.name, f"failed: {e}")

    # -- S1 footprint and S7 idle (all inits up at once) ---------------------------------
    def s1_s7(self):
        """Every init is booted side by side (idle processes do not disturb each other), then
        memory is read, then context switches are counted over one idle window."""
        for rep in range(self.opts.reps_idle):
            self.log(f"S1/S7 all inits side by side ({rep + 1}/{self.opts.reps_idle}), "
                     f"{self.opts.idle:g} s idle")
            with contextlib.ExitStack() as stack:
                boots = {}
                for init in self.inits.values():
                    if not init.is_init:
                        continue
                    full = self._full(init)
                    names = services(100) if full else (["main"] if not init.supervises else [])
                    try:
                        boots[init.name] = (init, full, stack.enter_context(
                            self.booted(init, names, label=f"idle-{init.name}",
                                        pids_dir=os.path.join(self.work, f"pids-{init.name}"))))
                    except Exception as e:  # noqa: BLE001 - reported in the table
                        self.log(f"  S1 {init.name}: FAILED: {e}")
                        self.unavailable("S1.pid1_rss", init.name, f"failed: {e}")
                self.settle(self.opts.settle)
                before = {}
                for name, (init, full, b) in list(boots.items()):
                    sup, _svc = b.split_processes()
                    mem = procs.memory_kb(b.ns.pid1)
                    if mem is None:
                        self.unavailable("S1.pid1_rss", name, "failed: PID 1 is gone")
                        del boots[name]
                        continue
                    rss, pss, uss = mem
                    self.record("S1.pid1_rss", name, rss / 1024)
                    self.record("S1.pid1_pss", name, pss / 1024)
                    self.record("S1.pid1_uss", name, uss / 1024)
                    if full:
                        mems = [m for m in map(procs.memory_kb, sup) if m]
                        self.record("S1.sup_pss", name, sum(m[1] for m in mems) / 1024)
                        self.record("S1.sup_uss", name, sum(m[2] for m in mems) / 1024)
                    before[name] = {p: procs.context_switches(p) for p in sup}
                time.sleep(self.opts.idle)
                for name, (init, full, b) in boots.items():
                    cs0 = before[name]
                    cs1 = {p: procs.context_switches(p) for p in cs0}
                    d = {p: cs1[p] - cs0[p] for p in cs0
                         if cs0[p] is not None and cs1[p] is not None}
                    self.record("S7.pid1_cs", name, d.get(b.ns.pid1, 0))
                    if full:
                        self.record("S7.sup_cs", name, sum(d.values()))
        for init in self.inits.values():
            if not init.is_init:
                for m in ("S1.pid1_rss", "S1.pid1_pss", "S1.pid1_uss", "S1.sup_pss", "S1.sup_uss",
                          "S7.pid1_cs", "S7.sup_cs"):
                    self.unavailable(m, init.name, "n/a: the floor is not an init")
                continue
            if not self._full(init):
                why = self.heartwood.services_missing() if init is self.heartwood else \
                    "n/a: supervises no services"
                for m in ("S1.sup_pss", "S1.sup_uss", "S7.sup_cs"):
                    self.unavailable(m, init.name, why)

    def _full(self, init):
        """Whether `init` runs the 100 services (heartwood only with the real programs)."""
        return init.supervises and not (init is self.heartwood and
                                        self.heartwood.services_missing())

    # -- S2 bring-up ----------------------------------------------------------------------
    def s2(self):
        for n in self.opts.bringup_sizes:
            metric = f"S2.up{n}"
            for init in self.service_inits(metric):
                self.log(f"S2 {init.name} {n} services")
                for _ in range(self.opts.reps):
                    self.guarded(metric, init, lambda: self._s2_once(metric, init, n))
            self._na_containers(metric)

    def _s2_once(self, metric, init, n):
        with self.booted(init, services(n), up_timeout=120) as b:
            self.record(metric, init.name, (b.t_up - b.t0) / NS)

    def _na_containers(self, metric):
        for i in self.inits.values():
            if not i.supervises:
                self.unavailable(metric, i.name, "n/a: supervises no services")

    # -- S3 restart latency and crash loop ------------------------------------------------
    def s3(self):
        variants = [(i, "S3.restart", False) for i in self.service_inits("S3.restart")]
        if "s6" in self.inits:
            variants.append((self.inits["s6"], "S3.restart_ready", True))
        for init, metric, ready in variants:
            self.log(f"S3 restart latency {init.name}{' (notification-fd)' if ready else ''}")
            kills = self.opts.kills
            if init.name == "s6" and not ready:
                kills = self.opts.kills_slow  # each restart takes 1 s: fewer samples
            for _ in range(self.opts.s3_boots):
                self.guarded(metric, init, lambda: self._s3_latency(init, metric, ready, kills))
        self._na_containers("S3.restart")
        for m in ("S3.crash_first", "S3.crash_cpu", "S3.crash_starts"):
            self._na_containers(m)
        for init in self.service_inits("S3.crash_first"):
            if not init.backoff:
                for m in ("S3.crash_first", "S3.crash_cpu", "S3.crash_starts"):
                    self.unavailable(m, init.name, "n/a: no backoff (restarts at once)")
                continue
            self.log(f"S3 crash loop {init.name}")
            self.guarded("S3.crash_first", init, lambda: self._s3_crash(init))
        if self.heartwood.services_missing():
            for m in ("S3.crash_cpu", "S3.crash_starts"):
                self.unavailable(m, "heartwood", self.heartwood.services_missing())

    def _s3_latency(self, init, metric, ready, kills):
        names = services(100)
        label = init.name + ("-ready" if ready else "")
        with self.booted(init, names, readiness=ready, label=label) as b:
            time.sleep(1.2)  # every service has been up for over a second
            hp = b.service_host_pids()
            for name in names[:kills]:
                old = b.watch.pid_of(name)
                b.watch.drain()
                t0 = time.monotonic_ns()
                if not b.ns.signal_process(hp[name], signal.SIGKILL):
                    raise BenchError(f"{name} (host pid {hp[name]}) vanished before the kill")
                t1 = b.watch.wait_all([name], t0 + int(10 * NS), changed_from={name: old})
                if t1 is None:
                    raise BenchError(f"{name} did not come back within 10 s")
                self.record(metric, init.name, (t1 - t0) / MS)

    def _s3_crash(self, init):
        window = self.opts.crash_window
        with self.booted(init, ["crash"]) as b:
            t_first = b.t_up
            cpu0 = self._ns_cpu(b.ns)
            starts = [t_first]

            def done(name, _pid, t):
                if name == "crash":
                    starts.append(t)
                return False

            b.watch.wait(done, t_first + int(window * NS))
            cpu1 = self._ns_cpu(b.ns)
            t_end = time.monotonic_ns()
            if len(starts) >= 2:
                self.record("S3.crash_first", init.name, (starts[1] - starts[0]) / MS)
            else:
                self.unavailable("S3.crash_first", init.name,
                                 f"not restarted within {window}s")
            self.record("S3.crash_cpu", init.name,
                        100.0 * (cpu1 - cpu0) / procs.CLK_TCK / ((t_end - t_first) / NS))
            self.record("S3.crash_starts", init.name, len(starts))

    @staticmethod
    def _ns_cpu(ns):
        """CPU ticks used so far by everything in the namespace: the live processes' own time
        plus the time of the children they reaped."""
        return sum(t for t in (procs.cpu_ticks(p) for p in ns.processes()) if t is not None)

    # -- S4 reaping -----------------------------------------------------------------------
    def s4(self):
        n = self.opts.orphans
        for init in self.inits.values():
            self.log(f"S4 {init.name}: {n} orphans")
            for _ in range(self.opts.reps_s4):
                self.guarded("S4.reap", init, lambda: self._s4_once(init, n))

    def _s4_once(self, init, n):
        names = ["main"] if not (init is self.heartwood and
                                 self.heartwood.services_missing()) else []
        with self.booted(init, names) as b:
            r = b.ns.nsenter([self.orphans_bin, str(n)], timeout_s=180)
            m = re.search(r"reap_ms ([0-9.]+)", r.stdout)
            if r.returncode != 0 or not m:
                raise BenchError(f"bench-orphans: {r.stderr.strip() or r.stdout.strip()}")
            self.record("S4.reap", init.name, float(m.group(1)) / 1e3)

    # -- S5 kill -9 -1 --------------------------------------------------------------------
    def s5(self):
        for init in self.service_inits("S5.recover"):
            self.log(f"S5 {init.name}")
            for _ in range(self.opts.reps_long):
                self.guarded("S5.recover", init, lambda: self._s5_once(init))
        self._na_containers("S5.recover")

    def _s5_once(self, init):
        names = services(100)
        agent = os.path.join(os.path.dirname(__file__), "ns_kill_all.py")
        host_ns = procs.pid_ns_inode(os.getpid())
        with self.booted(init, names) as b:
            time.sleep(1.5)
            old = {n: b.watch.pid_of(n) for n in names}
            b.watch.drain()
            if b.ns.ns_inode == host_ns:
                raise BenchError("refusing kill -9 -1: not in a new PID namespace")
            p = subprocess.Popen(["nsenter", "-t", str(b.ns.pid1), "-U", "-m", "-p",
                                  "--preserve-credentials", "--", sys.executable, agent,
                                  str(b.ns.ns_inode), str(host_ns)],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                t1 = b.watch.wait_all(names, time.monotonic_ns() + int(60 * NS),
                                      changed_from=old, stop_fd=b.ns.pid1_fd)
                out, err = p.communicate(timeout=30)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            if p.returncode != 0 or not out.strip():
                raise BenchError(f"kill -9 -1 agent failed: {err.strip()}")
            t0 = int(out.split()[0])
            if t1 is None and b.ns.exited():
                self.unavailable("S5.recover", init.name,
                                 "does not recover: PID 1 shut down after kill -9 -1")
                return
            if t1 is None:
                back = sum(1 for n in names if b.watch.pid_of(n) != old[n])
                raise BenchError(f"{back} of 100 services back within 60 s")
            self.record("S5.recover", init.name, (t1 - t0) / NS)

    # -- S6 shutdown ----------------------------------------------------------------------
    def s6(self):
        for init in self.supervisors():
            if init.name == "runsvdir":
                self.unavailable("S6.shutdown", init.name, "n/a: no orderly shutdown "
                                 "(SIGHUP: TERM to each runsv and exit at once)")
                continue
            partial = init is self.heartwood and self.heartwood.services_missing()
            self.log(f"S6 {init.name}{' (no services: stand-ins)' if partial else ''}")
            for _ in range(self.opts.reps_long):
                self.guarded("S6.shutdown", init, lambda: self._s6_once(init, not partial))
            if partial:
                self.notes.setdefault("S6.shutdown", {})["heartwood"] = \
                    "stand-ins, 0 services: " + self.heartwood.services_missing()
        self._na_containers("S6.shutdown")

    def _s6_once(self, init, with_services):
        names = services(100) if with_services else []
        with self.booted(init, names) as b:
            time.sleep(self.opts.settle)
            t0 = time.monotonic_ns()
            init.shutdown(b.ns)
            t1 = b.ns.wait_pid1_exit(60)
            if t1 is None:
                raise BenchError("PID 1 still there 60 s after the shutdown request")
            self.record("S6.shutdown", init.name, (t1 - t0) / MS)

    # -- S8 planning ----------------------------------------------------------------------
    def s8(self):
        ctl = self.heartwood.found.get("system-control")
        for n in self.opts.plan_sizes:
            metric = f"S8.plan{n}"
            for i in self.inits.values():
                if i is not self.heartwood:
                    self.unavailable(metric, i.name, "n/a: no job planner")
            if not ctl:
                self.unavailable(metric, "heartwood",
                                 "not available: system-control missing from the build")
                continue
            self.log(f"S8 planning start over {n} bundles")
            root = os.path.join(self.work, f"tree{n}")
            generate_tree(root, n, seed=n)
            init = self.heartwood
            self.guarded(metric, init, lambda: self._s8_once(metric, ctl, root))
            bench_bin = os.path.join(self.heartwood.build_dir, "tools", "plan_bench")
            if os.access(bench_bin, os.X_OK):
                self.guarded(metric, init, lambda: self._s8_phases(n, bench_bin, root))

    def _s8_phases(self, n, bench_bin, root):
        """The phases inside system-control's time, from tools/plan_bench (best of 5): reading
        the tree from disk, planning, and answering the read from a current cache instead."""
        for _ in range(self.opts.reps):
            r = subprocess.run([bench_bin, root, "all"], stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=120)
            m = re.search(r"read tree ([0-9.]+) ms \| plan ([0-9.]+) ms", r.stdout)
            if r.returncode != 0 or not m:
                raise BenchError(f"plan_bench: {(r.stderr or r.stdout).strip()[:200]}")
            self.record(f"S8.read{n}", "heartwood", float(m.group(1)))
            self.record(f"S8.planonly{n}", "heartwood", float(m.group(2)))
            c = re.search(r"cached read ([0-9.]+) ms", r.stdout)
            if c:
                self.record(f"S8.cached{n}", "heartwood", float(c.group(1)))

    def _s8_once(self, metric, ctl, root):
        """system-control -n start all: without a cache (what the first command after a change
        to the tree pays), then with the cache current (what every later one pays). The cache
        keeps nothing changed under a second ago, so the tree is let age that long, and one
        unrecorded run stores the read."""
        n = metric[len("S8.plan"):]
        cache = os.path.join(self.work, f"bundle-cache{n}")
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HEARTWOOD_BUNDLE_PATH": root}

        def run(cache_dir):
            t0 = time.monotonic_ns()
            r = subprocess.run([ctl, "--dry-run", "start", "all"],
                               env=dict(env, HEARTWOOD_CACHE_DIR=cache_dir),
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, timeout=120)
            t1 = time.monotonic_ns()
            if r.returncode != 0:
                raise BenchError(f"system-control exited {r.returncode}: {r.stderr.strip()[:200]}")
            return (t1 - t0) / MS

        for _ in range(self.opts.reps):
            self.record(f"S8.cold{n}", "heartwood", run(""))
        time.sleep(1.1)
        run(cache)
        for _ in range(self.opts.reps):
            self.record(metric, "heartwood", run(cache))

    # -- S9 boot in qemu ------------------------------------------------------------------
    def s9(self, build_dir):
        for i in self.inits.values():
            if i is not self.heartwood:
                self.unavailable("S9.boot", i.name, "n/a: no boot image")
        if self.opts.quick:
            self.unavailable("S9.boot", "heartwood", "not run in --quick (qemu boots)")
            return
        script = os.path.join(self.source_dir, "tests", "qemu", "normal.sh")
        env = dict(os.environ, HW_SOURCE_DIR=self.source_dir, HW_BUILD_DIR=build_dir)
        for _ in range(self.opts.reps_boot):
            self.log("S9 heartwood: qemu boot (tests/qemu/normal.sh)")
            r = subprocess.run(["bash", script], env=env, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, timeout=300)
            text = (r.stdout + r.stderr).strip()
            if r.returncode == 77:
                last = text.splitlines()[-1] if text else "skipped"
                self.unavailable("S9.boot", "heartwood", "not available: " + last)
                return
            m = re.search(r"target normal reached at uptime ([0-9.]+)", text)
            if not m:
                self.unavailable("S9.boot", "heartwood",
                                 f"failed (exit {r.returncode}): {text.splitlines()[-1:]}")
                return
            if r.returncode != 0:  # the boot time stands; the test's own checks are reported
                fails = [ln.strip() for ln in text.splitlines() if "HW-TEST: FAIL" in ln]
                self.notes.setdefault("S9.boot", {})["heartwood"] = \
                    "tests/qemu/normal.sh failed a check in one boot: " + "; ".join(fails)[:200]
            self.record("S9.boot", "heartwood", float(m.group(1)))


def generate_tree(root, n, seed):
    """A random bundle tree for S8: n services s00000.., each requiring (and ordered after)
    0-2 lower-numbered ones and wanting 0-2 more (so the graph is a DAG), n/100 targets each
    wanting a random slice, and the target `all` wanting every target."""
    if os.path.exists(root):
        shutil.rmtree(root)
    rng = random.Random(seed)
    svc_root = os.path.join(root, "services")
    tgt_root = os.path.join(root, "targets")
    names = [f"s{i:05d}" for i in range(n)]

    def bundle(base, name, run, remain=False):
        d = os.path.join(base, name, "service")
        os.makedirs(d)
        with open(os.path.join(d, "run"), "w") as f:
            f.write(run)
        os.chmod(os.path.join(d, "run"), 0o755)
        if remain:
            open(os.path.join(d, "remain"), "w").close()
        return os.path.dirname(d)

    def link(d, kind, target, entry):
        os.makedirs(os.path.join(d, kind), exist_ok=True)
        os.symlink(target, os.path.join(d, kind, entry))

    for i, name in enumerate(names):
        d = bundle(svc_root, name, "#!/bin/sh\nexec sleep 1000000\n")
        for j in rng.sample(range(i), min(i, rng.randint(0, 2))):
            link(d, "requires", f"../../{names[j]}", names[j])
            link(d, "after", f"../../{names[j]}", names[j])
        for j in rng.sample(range(i), min(i, rng.randint(0, 2))):
            if not os.path.lexists(os.path.join(d, "requires", names[j])):
                link(d, "wants", f"../../{names[j]}", names[j])
    targets = [f"t{i:03d}" for i in range(max(1, n // 100))]
    for t in targets:
        d = bundle(tgt_root, t, "#!/bin/sh\ntrue\n", remain=True)
        for j in rng.sample(range(n), min(n, 100)):
            link(d, "wants", f"../../../services/{names[j]}", names[j])
    d = bundle(tgt_root, "all", "#!/bin/sh\ntrue\n", remain=True)
    for t in targets:
        link(d, "wants", f"../../{t}", t)
