#!/bin/sh
# service-manager run standalone (its own socket via --socket, no fd store) in a PID namespace
# as real root: control works for root, and a peer with another uid is refused by SO_PEERCRED
# even though the socket file lets it connect. Needs real root (setpriv to nobody): else skip.
set -eu
[ "$(id -u)" = 0 ] || { echo "e2e: not root; skipping"; exit 77; }
command -v setpriv >/dev/null || { echo "e2e: no setpriv; skipping"; exit 77; }
WORK=$(mktemp -d /tmp/hw-e2e.XXXXXX)
chmod 755 "$WORK"
export WORK
trap 'rm -rf "$WORK"' EXIT
unshare --pid --fork --mount --mount-proc --kill-child sh -eu -c '
    . "$E2E_DIR/lib.sh"
    "$SM" --no-cgroup --socket "$WORK/control" --run-dir "$WORK/run" &
    sm=$!
    i=0
    while [ ! -S "$WORK/control" ]; do sleep 0.01; i=$((i + 1)); [ $i -lt 500 ] || fail "no socket"; done
    chmod 666 "$WORK/control"
    mkservice one "exec sleep 1000"
    chmod -R a+rX "$WORK"
    $SMCTL --socket "$WORK/control" load one "$B/one"
    $SMCTL --socket "$WORK/control" start one
    $SMCTL --socket "$WORK/control" wait ready 5000 one
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $SMCTL --socket "$WORK/control" list 2>&1) &&
        fail "uid 65534 was served: $out"
    echo "$out" | grep -q "permission denied" || fail "unexpected refusal: $out"
    [ -p "$WORK/run/supervise/one/control" ] || fail "no supervise dir under --run-dir"
    kill -TERM $sm
    wait $sm || fail "service-manager exited $?"
    say ok
'
