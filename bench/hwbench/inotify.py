"""inotify(7) through ctypes, and PidWatch: the one way the benchmark observes services.

A service records its PID in <pids>/<name> (its shell's `echo $$ > file`, then exec sleep); the
close of that file (IN_CLOSE_WRITE) is the moment the service runs. PidWatch reads those events
as they come, blocking in poll(2) with a deadline: no loop here spins or sleeps to look.
Every wait takes a deadline (time.monotonic_ns() based) and returns None when it passes.
"""
import ctypes
import ctypes.util
import errno
import os
import select
import struct
import time

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_libc.inotify_init1.argtypes = [ctypes.c_int]
_libc.inotify_add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
_EVENT = struct.Struct("iIII")


class Inotify:
    """Owns one inotify descriptor (closed by close() or on context exit)."""

    def __init__(self):
        fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            e = ctypes.get_errno()
            raise OSError(e, "unable to create an inotify instance: " + os.strerror(e))
        self.fd = fd
        self.poll = select.poll()
        self.poll.register(fd, select.POLLIN)

    def add_watch(self, path, mask):
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            e = ctypes.get_errno()
            raise OSError(e, f"unable to watch {path}: {os.strerror(e)}")
        return wd

    def read(self, deadline_ns, stop_fd=None):
        """Events [(wd, mask, name)] read at once, or [] when the deadline passed first or
        stop_fd (e.g. PID 1's pidfd) became readable."""
        p = self.poll
        if stop_fd is not None:
            p = select.poll()
            p.register(self.fd, select.POLLIN)
            p.register(stop_fd, select.POLLIN)
        while True:
            left_ms = (deadline_ns - time.monotonic_ns()) / 1e6
            if left_ms <= 0:
                return []
            ready = p.poll(max(1, int(left_ms + 1)))
            if stop_fd is not None and any(fd == stop_fd for fd, _ in ready):
                return []
            if not ready:
                continue  # the deadline check above ends the loop
            try:
                data = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                continue
            events, off = [], 0
            while off < len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, off)
                off += _EVENT.size
                name = data[off:off + length].rstrip(b"\0").decode()
                off += length
                if mask & IN_Q_OVERFLOW:
                    raise RuntimeError("inotify queue overflow: events were lost")
                events.append((wd, mask, name))
            return events

    def close(self):
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class PidWatch:
    """Watches a pids directory. Each write of a pid file is an event (name, pid, t_ns)."""

    def __init__(self, pids_dir):
        self.dir = pids_dir
        self.ino = Inotify()
        self.ino.add_watch(pids_dir, IN_CLOSE_WRITE | IN_MOVED_TO)

    def close(self):
        self.ino.close()

    def pid_of(self, name):
        try:
            with open(os.path.join(self.dir, name)) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (FileNotFoundError, ValueError):
            return None

    def drain(self):
        """Forgets the events already queued."""
        self.ino.read(time.monotonic_ns())

    def wait(self, done, deadline_ns, stop_fd=None):
        """Calls done(name, pid, t_ns) for every pid file written, until it returns True.

        Returns the time (monotonic ns) of the event that completed it, or None at the deadline
        or once stop_fd is readable.
        """
        while True:
            events = self.ino.read(deadline_ns, stop_fd)
            if not events:
                return None
            t = time.monotonic_ns()
            for _wd, _mask, name in events:
                if not name or name.startswith("."):
                    continue
                if done(name, self.pid_of(name), t):
                    return t

    def wait_all(self, names, deadline_ns, changed_from=None, stop_fd=None):
        """Waits until every name in `names` has been written (with a pid other than
        changed_from[name], when given). Returns the completion time or None."""
        left = set(names)

        def done(name, pid, _t):
            if name in left and pid is not None:
                if changed_from is None or changed_from.get(name) != pid:
                    left.discard(name)
            return not left

        if not left:
            return time.monotonic_ns()
        return self.wait(done, deadline_ns, stop_fd)
