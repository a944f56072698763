#!/bin/bash
# system-manager as PID 1 keeps its two children alive, loses no log line when the logger is
# killed, and reaps every orphan.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

zombies_in_ns() { in_ns sh -c 'grep -l "^State:.*Z" /proc/[0-9]*/status 2>/dev/null | wc -l'; }

date +%T; echo "# killed children come back"
boot || exit 1
wait_for "the logger" 10 child_of_pid1 system-logger
wait_for "the service-manager" 10 child_of_pid1 service-manager
old_logger=$(child_of_pid1 system-logger)
old_manager=$(child_of_pid1 service-manager)
kill -9 "$old_logger" "$old_manager"
new_logger_running() { local p; p=$(child_of_pid1 system-logger) && [ "$p" != "$old_logger" ]; }
new_manager_running() { local p; p=$(child_of_pid1 service-manager) && [ "$p" != "$old_manager" ]; }
wait_for "a new logger" 10 new_logger_running
wait_for "a new service-manager" 10 new_manager_running
check "a killed logger is replaced" new_logger_running
check "a killed service-manager is replaced" new_manager_running
# Running is not having written: PID 1's line and the new service-manager's first line reach
# the log through the (restarted) logger a moment later.
check "the restart is logged with the cause" \
    eventually 10 log_has "the service-manager killed by SIGKILL; restarting it"
check "the new service-manager got its descriptors again" \
    eventually 10 sh -c "[ \$(grep -c 'fd3=socket:.* fd4=socket:' '$T/log/current') -ge 2 ]"

date +%T; echo "# a crash loop is throttled, not spun"
# Kill each new service-manager as soon as it runs (dying within a second of its start is dying
# young), until PID 1 says it puts the next restart off; a loaded machine may need a few rounds.
# (Only new throttle lines count: the first kill above may already have been a young death.)
delays() { grep -c "restarting service-manager in [0-9]* ms" "$T/log/current"; }
delays_before=$(delays)
throttled() { [ "$(delays)" -gt "$delays_before" ]; }
last=""
kills=0
deadline=$((SECONDS + 15))
until throttled || [ $SECONDS -ge $deadline ]; do
    p=$(child_of_pid1 service-manager) && [ "$p" != "$last" ] && kill -9 "$p" &&
        last=$p && kills=$((kills + 1))
    sleep 0.02
done
check "a service-manager that keeps dying young is restarted after a delay ($kills kills)" \
    throttled
wait_for "the service-manager back after its delay" 20 child_of_pid1 service-manager
kill -48 "$P1"; wait_exit 30
cleanup

date +%T; echo "# no log line is lost across logger kills"
lines=20000
BEFORE_BOOT='echo $lines > "$T/writer"' boot || exit 1
wait_for "the writer to start" 10 test -e "$T/writer.started"
kills=0
for i in $(seq 100); do  # at most 8 kills, while the writer writes
    [ -e "$T/writer.done" ] || [ $kills -ge 8 ] && break
    p=$(child_of_pid1 system-logger) && kill -9 "$p" && kills=$((kills + 1))
    sleep 0.05
done
wait_for "the writer to finish" 60 test -e "$T/writer.done"
kill -48 "$P1"; wait_exit 60
check "the logger was killed while the writer wrote ($kills times)" test "$kills" -ge 3
got=$(grep -ho 'numbered line [0-9]*$' "$T/log/current" "$T"/log/@* 2>/dev/null | awk '{print $3}' | sort -n | uniq)
missing=$(comm -23 <(seq 1 $lines | sort) <(echo "$got" | sort) | wc -l)
check "all $lines numbered lines are in the log ($missing missing)" test "$missing" -eq 0
cleanup

date +%T; echo "# 1,000 orphans are reaped"
boot || exit 1
echo 1000 > "$T/orphans"
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
kill -34 "$P1"  # start normal again: this job leaves 1,000 orphans behind
second_normal_done() { [ "$(grep -c 'job normal exited 0' "$T/log/current")" -ge 2 ]; }
wait_for "the orphans' job" 120 second_normal_done  # 1,000 forks: slow on a loaded machine
few_processes() { [ "$(in_ns sh -c 'ls -d /proc/[0-9]* | wc -l')" -lt 20 ]; }
no_zombies() { [ "$(zombies_in_ns)" -eq 0 ]; }
check "every orphan exits (fewer than 20 processes left)" eventually 30 few_processes
check "no zombie is left after 1,000 orphans exited" eventually 10 no_zombies
kill -48 "$P1"; wait_exit 30
check "PID 1 still shuts down cleanly afterwards" test "$STATUS" = 130

finish
