#!/bin/sh
# The cgroup v2 process trees, on a host where cgroup2 is writable by root (here the hybrid
# layout's /sys/fs/cgroup/unified): a scratch cgroup D becomes the root of a new cgroup
# namespace, cgroup2 is mounted there inside a private mount namespace, and the test runs under
# fake-pid1 as usual. D is removed afterwards. Needs real root; skipped otherwise.
set -eu
[ "$(id -u)" = 0 ] || { echo "e2e: not root; skipping"; exit 77; }
cg2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
[ -n "$cg2" ] || { echo "e2e: no cgroup2 mounted; skipping"; exit 77; }
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
D=$cg2${own%/}/hw-e2e-$$
mkdir "$D" 2>/dev/null || { echo "e2e: cgroup2 not writable at $cg2; skipping"; exit 77; }
WORK=$(mktemp -d /tmp/hw-e2e.XXXXXX)
export WORK D
cleanup() {
    find "$D" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
sh -c 'echo $$ > "$D/cgroup.procs" && exec unshare --cgroup --user --map-root-user --pid --fork \
    --mount --mount-proc --kill-child sh -c "mount -t cgroup2 none /sys/fs/cgroup &&
    mount -t tmpfs tmpfs /run && exec \"\$FAKE_PID1\" \"\$SM\" -- sh -eu \"\$E2E_DIR/cgroup_inner.sh\""'
