# Exit statuses are not lost to a kill -9 of service-manager: a process that ends while no
# manager runs (PID 1 reaps it), or after the successor re-adopted it (PID 1 reaps it too, since
# it is not the successor's child), still reports how it ended. The kernel records that in the
# pidfd the manager parks in PID 1's fd store (Linux 6.15+); older kernels say "unknown".
. "$E2E_DIR/lib.sh"
# Each service ends with its own status when its go-file appears, once.
quitter() { # quitter NAME STATUS
    mkservice "$1" "while [ ! -e '$WORK/go-$1' ]; do sleep 0.02; done; rm -f '$WORK/go-$1'; exit $2"
}
quitter early 7
quitter adopted 5
$SMCTL load-dir "$B"
$SMCTL start early adopted
wait_state ready 5000 early adopted
early=$(field early pid)
adopted=$(field adopted pid)
# The manager parks their pidfds in PID 1 shortly after the start (park_delay).
parked() { grep -qs "^Pid:[[:space:]]*$1\$" /proc/1/fdinfo/*; }
eventually 30 parked "$early" || fail "PID 1 holds no pidfd of early ($early)"
eventually 30 parked "$adopted" || fail "PID 1 holds no pidfd of adopted ($adopted)"

# `early` ends while the manager is stopped, so that it is still its child (a zombie), and is
# then reparented to PID 1 and reaped by it when the manager is killed.
sm=$(pids_of service-manager)
kill -STOP "$sm"
touch "$WORK/go-early"
eventually 30 is_zombie "$early" || fail "early ($early) did not end"
kill -9 "$sm"
eventually 30 gone "$early" || fail "PID 1 did not reap early ($early)"
$SMCTL list > /dev/null   # blocks until the successor answers
[ "$(pids_of service-manager)" != "$sm" ] || fail "service-manager was not replaced"
# The successor still runs `adopted`, which it did not start.
expect_field adopted pid "$adopted"
touch "$WORK/go-adopted"
eventually 30 gone "$adopted" || fail "adopted ($adopted) did not end"
eventually 30 sh -c "[ \"\$($SMCTL status adopted | tr ' ' '\n' | sed -n 's/^pid=//p')\" != $adopted ]" ||
    fail "the successor did not see adopted ($adopted) end"

recorded=yes
kernel=$(uname -r)
major=${kernel%%.*} minor=${kernel#*.}
minor=${minor%%[!0-9]*}
[ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 15 ]; } || recorded=no
if [ $recorded = yes ]; then
    expect_field early exit $((7 << 8))
    expect_field adopted exit $((5 << 8))
else
    say "Linux $kernel records no exit status in pidfds: only checking that both ended"
fi
expect_field early has_exit 1
expect_field adopted has_exit 1
say ok
