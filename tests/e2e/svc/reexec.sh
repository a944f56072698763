# PID 1 re-executes itself (SIGRTMIN+25, what `system-control reexec` sends) with services up.
# It keeps the logger, the service-manager, the services and the fd store, and no log line is
# lost; afterwards a killed service-manager is still restarted and re-adopts everything, a
# second re-execution works, and run_pid1.sh's poweroff at the end is orderly.
# Runs only under the real system-manager (run_pid1.sh).
. "$E2E_DIR/lib.sh"
LOG=$WORK/../log/current
mkservice counter 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); echo "counter line $i"; sleep 0.002; done; exec sleep 1000'
names=counter
for i in 1 2 3 4 5; do
    mkservice "s$i" 'exec sleep 1000'
    names="$names s$i"
done
$SMCTL load-dir "$B"
$SMCTL start $names
wait_state ready 5000 $names
$SMCTL list | sort > "$WORK/before"
sm=$(pids_of service-manager)
logger=$(pids_of system-logger)
[ -n "$sm" ] && [ -n "$logger" ] || fail "no service-manager or logger running"

reexecs() { grep -c 're-executed: took over' "$LOG" 2>/dev/null || true; }
wait_reexecs() { # wait_reexecs N: up to 5 s for the N-th takeover in the system log
    for _ in $(seq 250); do
        [ "$(reexecs)" -ge "$1" ] && return 0
        sleep 0.02
    done
    fail "PID 1 did not report takeover number $1"
}

kill -59 1   # SIGRTMIN+25
wait_reexecs 1
grep -q "took over the logger (pid [0-9]*), the service-manager (pid [0-9]*)" "$LOG" ||
    fail "the takeover message names no logger or service-manager"
[ "$(pids_of service-manager)" = "$sm" ] || fail "the service-manager was replaced"
[ "$(pids_of system-logger)" = "$logger" ] || fail "the logger was replaced"
[ "$(cat /proc/1/comm)" = system-manager ] || fail "PID 1 is now $(cat /proc/1/comm)"
$SMCTL list | sort > "$WORK/after"
diff "$WORK/before" "$WORK/after" || fail "services changed across the re-execution"

# The new image still supervises the service-manager and hands it the fd store.
kill -9 "$sm"
$SMCTL list | sort > "$WORK/after-kill"   # blocks until the successor answers
diff "$WORK/before" "$WORK/after-kill" || fail "services changed across the manager restart"
[ "$(pids_of service-manager)" != "$sm" ] || fail "the service-manager was not restarted"

kill -59 1
wait_reexecs 2
# Over 100 lines (however slowly the counter writes them on this machine) before it stops.
counted() { [ "$(grep -c 'counter line' "$LOG")" -gt 100 ]; }
eventually 30 counted || fail "only $(grep -c 'counter line' "$LOG") counter lines in 30 s"
$SMCTL stop counter
wait_state stopped 5000 counter
sleep 0.3   # the logger writes out what is in the pipe
# Every line the counter wrote is in the system log, in order, none twice.
sed -n 's/.*counter line \([0-9]*\)$/\1/p' "$LOG" > "$WORK/numbers"
n=$(wc -l < "$WORK/numbers")
[ "$n" -gt 100 ] || fail "only $n counter lines in the system log"
awk 'NR != $1 { print "line " NR " is number " $1; bad = 1; exit } END { exit bad }' \
    "$WORK/numbers" || fail "counter lines lost or repeated across the re-executions"
say "$n counter lines across 2 re-executions and a service-manager kill, none lost"
say ok
