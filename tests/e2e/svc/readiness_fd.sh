# s6 notification-fd: running until a newline on fd N, then ready; never ready within
# timeout-start means failed.
. "$E2E_DIR/lib.sh"
mkservice slow 'sleep 0.4; echo ready >&3; exec sleep 1000' notification-fd=3
mkservice never 'exec sleep 1000' notification-fd=4 timeout-start=0.3
mkservice partial 'printf "no newline" >&3; exec 3>&-; exec sleep 1000' notification-fd=3 \
    timeout-start=0.3
load slow; load never; load partial
t0=$(now_ms)
$SMCTL start slow
expect_field slow state running
wait_state ready 5000 slow
t1=$(now_ms)
[ $((t1 - t0)) -ge 350 ] || fail "slow was ready after $((t1 - t0)) ms, before it said so"
expect_field slow ready 1
$SMCTL start never partial
wait_state failed 5000 never partial
pid=$(field never pid)
[ "$pid" = 0 ] || fail "never still has pid $pid"
say "ready after $((t1 - t0)) ms"
say ok
