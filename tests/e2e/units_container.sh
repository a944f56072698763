#!/bin/bash
# The shipped units (units/) booting a container, as under Docker (tests/e2e/docker-like): the
# services that belong to the host (udev, kernel modules, the root mount, serial consoles, swap
# and unmounting at shutdown) say so and stand aside, nothing fails, no getty is started on a
# console the container has no terminal on, and `docker stop` ends it with status 0.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
docker_like=$E2E_DIR/docker-like
require_docker_like
units=$(cd "$E2E_DIR/../../units" && pwd)
ctl=$BUILD_DIR/ctl/system-control

BOOT_PATH="$BUILD_DIR/daemon:$BUILD_DIR/ctl:/usr/sbin:/usr/bin:/sbin:/bin" \
    PID1_PREFIX=$docker_like boot HEARTWOOD_NO_CGROUPS=1 HEARTWOOD_BUNDLE_PATH="$units" ||
    exit 1
wait_for "the normal target" 60 in_ns "$ctl" is-active normal
in_ns "$ctl" list > "$T/list"
check "no service failed" bash -c "! grep -q failed '$T/list'" || cat "$T/list"
for s in sysinit basic multi-user normal hostname loopback random-seed runtime-files udev; do
    check "$s is up" grep -q "^$s  *ready" "$T/list"
done
for note in "remount-root: in a container: / is the runtime's business" \
    "kernel-modules: in a container: the modules are the host's" \
    "udev: in a container: devices are the host's business" \
    "serial-getty-generator: in a container: those consoles are the host's" \
    "console-getty: in a container with no terminal on /dev/console; no getty"; do
    check "the log says '$note'" log_has "$note"
done
in_ns sh -c 'cat /proc/[0-9]*/comm' > "$T/comms" 2>/dev/null
check "no getty runs" bash -c "! grep -q getty '$T/comms'"
check "console-getty is not offered again" bash -c "! grep -q '^console-getty  *ready' '$T/list'"

kill -TERM "$P1"
wait_exit 60
check "docker stop ends the container with status 0" test "$STATUS" = 0
check "the shutdown only synced" \
    log_has "unmount-all: in a container: the runtime unmounts its filesystems; synced only"
check "the poweroff job stopped the services, then kill-remaining and unmount-all ran" awk '
    /random-seed: stopping/ {a = NR} /kill-remaining: ready/ {b = NR}
    /unmount-all: in a container/ {c = NR} /job poweroff exited 0/ {d = NR}
    END {exit !(a && a < b && b < c && c < d)}' "$T/log/current"
finish
