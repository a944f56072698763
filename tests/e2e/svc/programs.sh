# start, restart and stop programs; remain; ready_after_run; x (unload when down).
. "$E2E_DIR/lib.sh"
log=$WORK/programs.log
mkservice full "echo run >> $log; sleep 0.2; exit 4" \
    "start=echo start >> $log" \
    "restart=echo restart \$* >> $log; [ \$(grep -c '^run' $log) -lt 2 ]" \
    "stop=echo stop >> $log"
load full
$SMCTL start full
wait_state failed 5000 full
expected="start
run
restart exit 4
run
restart exit 4
stop"
[ "$(cat "$log")" = "$expected" ] || fail "program sequence was: $(cat "$log")"

mkservice badstart "echo run >> $WORK/badstart" "start=exit 1"
load badstart
$SMCTL start badstart
wait_state failed 5000 badstart
[ ! -e "$WORK/badstart" ] || fail "run ran after a failing start"

mkservice oneshot "echo done > $WORK/oneshot; exit 0" ready_after_run=
mkservice target '' remain=
rm "$B/target/service/run"
mkservice setup "exit 0" ready_after_run= remain=
load oneshot; load target; load setup
$SMCTL start target setup
wait_state ready 5000 target setup
$SMCTL start oneshot
wait_state stopped 5000 oneshot
[ -e "$WORK/oneshot" ] || fail "oneshot did not run"
expect_field oneshot has_exit 1
expect_field oneshot exit 0
expect_field setup state ready
expect_field setup pid 0

# x: unload as soon as it is down.
printf x > /run/service-manager/supervise/setup/control
printf d > /run/service-manager/supervise/setup/control
unloaded() { $SMCTL status setup 2>&1 | grep -q "no such service"; }
eventually 10 unloaded || fail "setup still loaded after x then d"
[ ! -e /run/service-manager/services/setup ] || fail "state file of an unloaded service remains"

# A missing program fails with a message naming the step, and only that service.
mkservice missing 'exit 0' restart-limit=2 restart-delay=0.05
rm "$B/missing/service/run"
mkdir "$B/missing/service/run"   # exists, but cannot be executed
load missing
$SMCTL start missing
wait_state failed 5000 missing
expect_field missing exit 32256   # exit 126: exec failed
expect_field target state ready
say ok
