# A crashing service restarts at once, then with doubling delays, and past restart-limit it is
# failed and left alone. A service that stays up long enough gets its count reset.
. "$E2E_DIR/lib.sh"
mkservice crash 'now=$(date +%s%3N); echo "$now" >> '"$WORK"'/starts; exit 3' \
    restart-delay=0.1 restart-delay-max=0.4 restart-limit=5 restart-reset=5
load crash
sm=$(pids_of service-manager)
fds_before=$(ls /proc/$sm/fd | wc -l)
t0=$(now_ms)
$SMCTL start crash
wait_state failed 10000 crash
t1=$(now_ms)
n=$(wc -l < "$WORK/starts")
[ "$n" = 6 ] || fail "crash ran $n times, expected 1 + 5 restarts"
# Gaps between starts: ~0 (immediate), then ~100, 200, 400, 400 ms.
gaps=$(awk 'NR > 1 { printf "%d ", $1 - prev } { prev = $1 }' "$WORK/starts")
say "starts $n, gaps (ms): $gaps, total $((t1 - t0)) ms"
set -- $gaps
[ "$1" -lt 60 ] || fail "first restart took $1 ms"
[ "$2" -ge 90 ] && [ "$2" -lt 250 ] || fail "second delay $2 ms, expected ~100"
[ "$3" -ge 190 ] && [ "$3" -lt 350 ] || fail "third delay $3 ms, expected ~200"
[ "$4" -ge 390 ] && [ "$4" -lt 600 ] || fail "fourth delay $4 ms, expected ~400 (cap)"
[ "$5" -ge 390 ] && [ "$5" -lt 600 ] || fail "fifth delay $5 ms, expected ~400 (cap)"
expect_field crash exit 768   # wait status of exit 3
expect_field crash restarts 5  # the restarts done (the limit), not the refused sixth run
sleep 0.6
[ "$(wc -l < "$WORK/starts")" = 6 ] || fail "a failed service was restarted"
# u starts it afresh, with a fresh count.
$SMCTL start crash
wait_state failed 10000 crash
[ "$(wc -l < "$WORK/starts")" = 12 ] || fail "u did not restart the failed service afresh"

# Staying up longer than restart-reset resets the count: the restarts stay immediate.
mkservice flaky 'echo x >> '"$WORK"'/flaky; sleep 0.3; exit 1' \
    restart-delay=2 restart-limit=2 restart-reset=0.2
load flaky
$SMCTL start flaky
sleep 1.6
n=$(wc -l < "$WORK/flaky")
[ "$n" -ge 4 ] || fail "flaky ran only $n times in 1.6 s: its count was not reset"
expect_field flaky state ready
$SMCTL stop flaky
wait_state stopped 5000 flaky
fds_after=$(ls /proc/$sm/fd | wc -l)
# flaky's supervise files (lock, control, status, ok) are the only new descriptors
[ "$fds_after" = $((fds_before + 4)) ] || fail "descriptors: $fds_before before, $fds_after after"
say ok
