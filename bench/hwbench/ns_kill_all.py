"""Run inside a benchmark namespace (nsenter): `kill -9 -1` there, for scenario S5.

    python3 ns_kill_all.py EXPECTED_PID_NS_INODE HOST_PID_NS_INODE

Refuses (exit 2) unless this process is in the expected PID namespace and that namespace is
not the host's: kill(-1) outside it would hit the whole machine. Prints the monotonic time
(ns) just before the kill; the caller of kill(-1) is itself spared, and exits 0.
"""
import os
import signal
import sys
import time

expected, host = int(sys.argv[1]), int(sys.argv[2])
mine = os.stat("/proc/self/ns/pid").st_ino
if mine != expected or mine == host or expected == host:
    print(f"ns_kill_all: refusing: in pid ns {mine}, expected {expected} (host {host})",
          file=sys.stderr)
    sys.exit(2)
print(time.monotonic_ns(), flush=True)
os.kill(-1, signal.SIGKILL)
