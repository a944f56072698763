# A service that ignores SIGTERM is killed after timeout-stop; no_kill_signal leaves it alone;
# use_hangup sends SIGHUP too.
. "$E2E_DIR/lib.sh"
# Each says it is ready (notification-fd) once its traps are set: before that, a SIGTERM would
# simply kill it.
mkservice stubborn 'trap "" TERM; echo >&3; exec sleep 1000' timeout-stop=0.4 notification-fd=3
mkservice gentle "trap 'echo hup >> $WORK/hup' HUP; trap 'exit 0' TERM; echo >&3; while :; do sleep 0.05; done" \
    use_hangup= notification-fd=3
mkservice immortal 'trap "" TERM; echo $$ > '"$WORK"'/immortal.pid; echo >&3; exec sleep 1000' \
    timeout-stop=0.2 no_kill_signal= notification-fd=3
load stubborn; load gentle; load immortal
$SMCTL start stubborn gentle immortal
wait_state ready 5000 stubborn gentle immortal
pid=$(field stubborn pid)
t0=$(now_ms)
$SMCTL stop stubborn
wait_state stopped 5000 stubborn
t1=$(now_ms)
alive "$pid" && fail "stubborn survived"
elapsed=$((t1 - t0))
say "stubborn stopped after $elapsed ms (timeout-stop 400)"
# A sanity bound above: it tells timeout-stop (0.4 s) from the default (10 s), nothing finer.
[ "$elapsed" -ge 380 ] && [ "$elapsed" -lt 5000 ] || fail "stop took $elapsed ms"
$SMCTL stop gentle
wait_state stopped 5000 gentle
grep -q hup "$WORK/hup" || fail "use_hangup sent no SIGHUP"
$SMCTL stop immortal
wait_state stopped 5000 immortal
ipid=$(cat "$WORK/immortal.pid")
alive "$ipid" || fail "no_kill_signal: the process was killed anyway"
kill -9 "$ipid"
say ok
