# s6 notification-fd: running until a newline on fd N, then ready; never ready within
# timeout-start means failed.
. "$E2E_DIR/lib.sh"
# slow writes its newline only once the test creates $WORK/go, so it is surely not ready before.
mkservice slow "until [ -e $WORK/go ]; do sleep 0.02; done; echo ready >&3; exec sleep 1000" \
    notification-fd=3
mkservice never 'exec sleep 1000' notification-fd=4 timeout-start=0.3
mkservice partial 'printf "no newline" >&3; exec 3>&-; exec sleep 1000' notification-fd=3 \
    timeout-start=0.3
load slow; load never; load partial
t0=$(now_ms)
$SMCTL start slow
expect_field slow state running
sleep 0.4
expect_field slow state running
expect_field slow ready 0
: > "$WORK/go"
wait_state ready 5000 slow
t1=$(now_ms)
expect_field slow ready 1
$SMCTL start never partial
wait_state failed 5000 never partial
pid=$(field never pid)
[ "$pid" = 0 ] || fail "never still has pid $pid"
say "ready after $((t1 - t0)) ms"
say ok
