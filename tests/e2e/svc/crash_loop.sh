# A crashing service restarts at once, then with doubling delays, and past restart-limit it is
# failed and left alone. A service that stays up long enough gets its count reset.
. "$E2E_DIR/lib.sh"
mkservice crash 'date +%s%3N >> '"$WORK"'/starts; date +%s%3N >> '"$WORK"'/exits; exit 3' \
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
# Delays from each exit to the next start: ~0 (immediate), then ~100, 200, 400, 400 ms. A
# delay is never shorter than the backoff; it can be longer on a loaded machine, so the upper
# bounds only tell the cap (400) from a doubling past it (800). The first one is checked below
# with a backoff long enough to tell 'at once' from it on any machine.
tail -n +2 "$WORK/starts" > "$WORK/next_starts"
gaps=$(paste "$WORK/exits" "$WORK/next_starts" | awk 'NF == 2 { printf "%d ", $2 - $1 }')
say "starts $n, delays (ms): $gaps, total $((t1 - t0)) ms"
set -- $gaps
[ "$2" -ge 90 ] && [ "$2" -lt 400 ] || fail "second delay $2 ms, expected ~100"
[ "$3" -ge 190 ] && [ "$3" -lt 600 ] || fail "third delay $3 ms, expected ~200"
[ "$2" -lt "$3" ] && [ "$3" -lt "$4" ] || fail "delays $2, $3, $4 ms do not grow"
[ "$4" -ge 390 ] && [ "$4" -lt 750 ] || fail "fourth delay $4 ms, expected ~400 (cap)"
[ "$5" -ge 390 ] && [ "$5" -lt 750 ] || fail "fifth delay $5 ms, expected ~400 (cap)"
expect_field crash exit 768   # wait status of exit 3
expect_field crash restarts 5  # the restarts done (the limit), not the refused sixth run
sleep 0.6
[ "$(wc -l < "$WORK/starts")" = 6 ] || fail "a failed service was restarted"
# u starts it afresh, with a fresh count.
$SMCTL start crash
wait_state failed 10000 crash
[ "$(wc -l < "$WORK/starts")" = 12 ] || fail "u did not restart the failed service afresh"

# The first restart comes at once, not after restart-delay (5 s here); a machine that takes
# ~100 ms to run a process (a CPU-limited container) would fail a tighter bound than 2.5 s.
mkservice quick 'date +%s%3N >> '"$WORK"'/quick; exit 3' restart-delay=5 restart-limit=3
load quick
$SMCTL start quick
ran_twice() { [ "$(wc -l < "$WORK/quick")" -ge 2 ]; }
eventually 10 ran_twice || fail "quick was not restarted"
$SMCTL stop quick
wait_state stopped 5000 quick
$SMCTL unload quick   # its supervise files are not counted below
set -- $(cat "$WORK/quick")
say "quick: first restart after $(($2 - $1)) ms (restart-delay 5000)"
[ $(($2 - $1)) -lt 2500 ] || fail "the first restart took $(($2 - $1)) ms: not at once"
[ $# = 2 ] || fail "quick ran $# times: its second restart was not put off by 5 s"

# Staying up longer than restart-reset resets the count: the restarts stay immediate. Without
# the reset, flaky would run at most 3 times (at once, after 2 s, then failed past its limit).
mkservice flaky 'echo x >> '"$WORK"'/flaky; sleep 0.3; exit 1' \
    restart-delay=2 restart-limit=2 restart-reset=0.2
load flaky
$SMCTL start flaky
ran_4_times() { n=$(wc -l < "$WORK/flaky") && [ "$n" -ge 4 ]; }
eventually 15 ran_4_times || fail "flaky ran only $n times: its count was not reset"
wait_state ready 5000 flaky   # not failed
$SMCTL stop flaky
wait_state stopped 5000 flaky
# flaky's supervise files (lock, control, status, ok) are the only new descriptors. smctl's
# last connection may still be open for a moment after it got its answer: look for up to 10 s.
fds_back() { fds_after=$(ls /proc/$sm/fd | wc -l) && [ "$fds_after" = $((fds_before + 4)) ]; }
eventually 10 fds_back || fail "descriptors: $fds_before before, $fds_after after"
say ok
