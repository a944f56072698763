"""One init as PID 1 of a fresh user+PID+mount namespace.

    unshare --user --map-root-user --pid --fork --mount --kill-child --mount-proc \
        sh -c '<setup>; exec "$@"' sh INIT ARGS...

<setup> mounts a private tmpfs on /run, binds the slave of a pseudo-terminal over /dev/console
(so nothing reaches the machine's console; a thread copies what is written there to the log
file: several inits reopen the console and write at offset 0, so a plain file would be
overwritten) and does the init's own preparation (bind mounts inside the new mount
namespace only: the host's mounts are never touched).

Safety contract: the benchmark signals only processes it started. It owns the unshare process
(a direct child, reaped here); PID 1 is unshare's child and is held by a pidfd; processes inside
are signalled through a pidfd after checking they live in this namespace. stop() kills unshare,
whose --kill-child makes the kernel kill PID 1 and with it the whole namespace.
"""
import os
import select
import signal
import subprocess
import threading
import time
import tty

from . import procs

UNSHARE = ["unshare", "--user", "--map-root-user", "--pid", "--fork", "--mount", "--kill-child",
           "--mount-proc"]


class NamespaceError(RuntimeError):
    pass


def _now():
    return time.monotonic_ns()


class Namespace:
    def __init__(self, label, log_path, setup, argv, env):
        self.label = label
        self.log_path = log_path
        self.setup = setup
        self.argv = argv
        self.env = env
        self.proc = None        # the unshare process (our child)
        self.pid1 = None        # PID 1 as the host sees it
        self.pid1_fd = None     # pidfd of PID 1
        self.ns_inode = None    # inode of the namespace's pid ns
        self.t_start = None
        self.console = None     # (master fd, slave fd, copying thread)

    # -- start ---------------------------------------------------------------------------
    def _open_console(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        log = open(self.log_path, "ab", buffering=0)

        def copy():
            with log:
                while True:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: no slave open any more
                        return
                    if not data:
                        return
                    log.write(data)

        t = threading.Thread(target=copy, daemon=True)
        t.start()
        self.console = (master, slave, t)
        return os.ttyname(slave)

    def _close_console(self):
        if self.console:
            master, slave, t = self.console
            os.close(slave)
            t.join(timeout=5)
            os.close(master)
            self.console = None

    def start(self):
        console = self._open_console()
        script = "set -e\n" \
                 "mount -t tmpfs -o mode=0755 tmpfs /run\n" \
                 f"mount --bind '{console}' /dev/console\n" + \
                 "\n".join(self.setup) + "\nexec \"$@\"\n"
        with open(self.log_path, "ab") as log:
            self.t_start = _now()
            self.proc = subprocess.Popen(UNSHARE + ["sh", "-c", script, "sh"] + self.argv,
                                         env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True,
                                         close_fds=True)
        return self.t_start

    def find_pid1(self, timeout_s=10):
        """Finds PID 1 (unshare's child once it runs the init). Bounded: timeout_s."""
        if self.pid1 is not None:
            return self.pid1
        my_ns = procs.pid_ns_inode(os.getpid())
        deadline = _now() + int(timeout_s * 1e9)
        while _now() < deadline:
            if self.proc.poll() is not None:
                raise NamespaceError(f"{self.label}: unshare exited with {self.proc.returncode}"
                                     f" before PID 1 ran (log: {self.log_path})")
            kids = procs.children(self.proc.pid)
            if kids:
                pid = kids[0]
                ino = procs.pid_ns_inode(pid)
                if ino is not None and ino != my_ns and procs.ns_pid(pid) == 1:
                    fd = os.pidfd_open(pid)
                    self.pid1, self.pid1_fd, self.ns_inode = pid, fd, ino
                    return pid
            time.sleep(0.001)
        raise NamespaceError(f"{self.label}: no PID 1 after {timeout_s}s (log: {self.log_path})")

    def wait_comm(self, comm, timeout_s=10):
        """Waits (bounded) until PID 1 has exec'ed into the init (its comm is `comm`)."""
        self.find_pid1(timeout_s)
        deadline = _now() + int(timeout_s * 1e9)
        while _now() < deadline:
            if procs.comm(self.pid1) == comm:
                return True
            if self.exited():
                break
            time.sleep(0.001)
        raise NamespaceError(f"{self.label}: PID 1 is not {comm} (log: {self.log_path})")

    # -- looking inside -------------------------------------------------------------------
    def processes(self):
        """Host pids of every process of the namespace (PID 1 first)."""
        return procs.descendants(self.pid1) if self.pid1 else []

    def host_pid_map(self):
        """{ns pid: host pid} for every process of the namespace."""
        out = {}
        for p in self.processes():
            n = procs.ns_pid(p)
            if n is not None:
                out[n] = p
        return out

    def signal_process(self, host_pid, sig):
        """Signals a process of this namespace (checked through a pidfd: no pid reuse race)."""
        try:
            fd = os.pidfd_open(host_pid)
        except ProcessLookupError:
            return False
        try:
            if procs.pid_ns_inode(host_pid) != self.ns_inode:
                raise NamespaceError(f"{self.label}: pid {host_pid} is not in the namespace")
            signal.pidfd_send_signal(fd, sig)
            return True
        except ProcessLookupError:
            return False
        finally:
            os.close(fd)

    def signal_pid1(self, sig):
        signal.pidfd_send_signal(self.pid1_fd, sig)

    def exited(self):
        if self.pid1_fd is None:
            return self.proc.poll() is not None
        return bool(select.select([self.pid1_fd], [], [], 0)[0])

    def wait_pid1_exit(self, timeout_s):
        """Blocks until PID 1 has exited (pidfd readable). Returns the time or None."""
        r, _, _ = select.select([self.pid1_fd], [], [], timeout_s)
        return _now() if r else None

    def nsenter(self, argv, timeout_s=120, **kw):
        """Runs argv inside the namespace (its user, mount and PID namespaces)."""
        return subprocess.run(["nsenter", "-t", str(self.pid1), "-U", "-m", "-p",
                               "--preserve-credentials", "--"] + argv,
                              env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=timeout_s, **kw)

    # -- end ------------------------------------------------------------------------------
    def stop(self):
        """Ends the namespace for sure: SIGKILL to our unshare (its --kill-child kills PID 1,
        and the kernel then kills everything else inside), then reaps unshare."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise NamespaceError(f"{self.label}: unshare (pid {self.proc.pid}) did not die")
        if self.pid1_fd is not None:
            if not select.select([self.pid1_fd], [], [], 30)[0]:
                raise NamespaceError(f"{self.label}: PID 1 (host pid {self.pid1}) outlived unshare")
            os.close(self.pid1_fd)
            self.pid1_fd = None
        self.proc = None
        self._close_console()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
