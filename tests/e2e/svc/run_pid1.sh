#!/bin/bash
# Runs one service-manager e2e test script under the real system-manager as PID 1 of a user +
# PID + mount namespace (tests/e2e/lib.sh's boot), with the real service-manager and the
# stand-in system-control. The script runs inside the namespace (nsenter); afterwards PID 1 is
# asked to power off (SIGTERM), which stops the service-manager and ends the namespace.
# Usage: run_pid1.sh TEST.sh   (meson sets BUILD_DIR and SMCTL)
set -u
test_script=$1
SVC_DIR=$(cd "$(dirname "$0")" && pwd)
source "$SVC_DIR/../lib.sh"   # sets E2E_DIR to tests/e2e
trap cleanup EXIT
BEFORE_BOOT='mkdir "$T/bin" "$T/work" && ln -s "$E2E_DIR/standins/system-control" "$T/bin/" &&
    BOOT_PATH="$T/bin:$BUILD_DIR/daemon:/usr/sbin:/usr/bin:/sbin:/bin"'
# Process groups: a test must not touch the host's cgroup tree.
boot HEARTWOOD_NO_CGROUPS=1 || exit 1
# boot returns once PID 1 has blocked its signals, which is before it creates the control socket
# and starts the service-manager: wait until the service-manager answers.
wait_for "the service-manager to answer" 30 in_ns "$SMCTL" list || exit 1
in_ns env WORK="$T/work" SMCTL="$SMCTL" E2E_DIR="$SVC_DIR" sh -eu "$test_script"
status=$?
kill -TERM "$P1"
wait_exit 60
if [ "$status" -ne 0 ] || [ "$FAILURES" -ne 0 ]; then
    echo "--- system log (last 60 lines):"
    tail -n 60 "$T/log/current" 2>/dev/null
    [ "$status" -ne 0 ] || status=1
fi
exit "$status"
