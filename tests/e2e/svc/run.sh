#!/bin/sh
# Runs one e2e test script inside a fresh user + PID + mount namespace, as a child of fake-pid1
# (PID 1 there), which runs service-manager with its control socket and fd store. /run is a
# private tmpfs; $WORK is a scratch directory removed afterwards.
# Usage: run.sh TEST.sh   (meson sets SM, SMCTL, FAKE_PID1, E2E_DIR)
set -eu
test_script=$1
WORK=$(mktemp -d /tmp/hw-e2e.XXXXXX)
export WORK
trap 'rm -rf "$WORK"' EXIT
SM_ARGS=${SM_ARGS:---no-cgroup}
export SM_ARGS
unshare --user --map-root-user --pid --fork --mount --mount-proc --kill-child \
    sh -c 'mount -t tmpfs tmpfs /run && exec "$FAKE_PID1" "$SM" $SM_ARGS -- sh -eu "$0"' \
    "$test_script"
