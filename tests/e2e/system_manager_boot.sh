#!/bin/bash
# system-manager as PID 1: it starts the logger and the service-manager joined by the log pipe,
# runs the boot sequence the kernel arguments ask for, and turns signals into jobs.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

echo "# normal boot"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
check "init, then sysinit, then normal ran, in that order" \
    jobs_are $'system-control init\nsystem-control start sysinit\nsystem-control start normal'
wait_for "the service-manager's first line in the log" 10 log_has "stand-in service-manager up"
check "the service-manager's stdout reaches the logger's directory" log_has "stand-in service-manager up: pid="
check "the service-manager gets the control socket on fd 3 and the fd store on fd 4" \
    log_has "fd3=socket:.* fd4=socket:.* LISTEN_FDS=2 LISTEN_FDNAMES=control:fdstore"
check "LISTEN_PID names the service-manager itself" \
    grep -Eq 'pid=([0-9]+) .*LISTEN_PID=\1$' "$T/log/current"
check "PID 1's own messages are in the same log" log_has "system-manager: info: started the logger"
check "log lines carry a UTC timestamp" \
    grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z system-manager' "$T/log/current"
check "in a container the service-manager is told to leave cgroups alone" \
    grep -q "HEARTWOOD_NO_CGROUPS=1" "/proc/$(child_of_pid1 service-manager)/environ"
check "the control socket exists inside the namespace" in_ns test -S /run/service-manager/control
check "the runtime directories exist" in_ns test -d /run/service-bundles/early-supervise
check "/proc is the namespace's own (PID 1 is system-manager)" \
    in_ns sh -c '[ "$(cat /proc/1/comm)" = system-manager ]'
check "it said once, on the console, that it runs in a container" console_has "in a container"
check "and left the reason in /run/system-manager/container for services" \
    in_ns grep -q "in a user namespace" /run/system-manager/container

echo "# signals start the matching targets"
: > "$T/jobs"
for n in 0 1 2 10; do
    kill -$((34 + n)) "$P1"
    sleep 0.1
done
wait_for "four jobs" 10 sh -c "[ \$(wc -l < '$T/jobs') -eq 4 ]"
check "SIGRTMIN+0/+1/+2/+10 start normal, rescue, emergency and sysinit" \
    sh -c "sort '$T/jobs' | tr '\n' ' ' | grep -qx 'system-control start emergency system-control start normal system-control start rescue system-control start sysinit '"
: > "$T/jobs"
kill -HUP "$P1"
kill -USR1 "$P1"
sleep 0.3
check "signals without a meaning start nothing" jobs_are ""
wait_for "the ignored signal noted in the log" 5 log_has "ignoring signal 1 from"
kill -48 "$P1"
wait_exit 20
check "the forced poweroff ends the namespace as poweroff does (SIGINT, 130)" test "$STATUS" = 130
cleanup

echo "# rescue boot (-s)"
boot -- -s || exit 1
wait_for "the rescue job" 10 grep -q "start rescue" "$T/jobs"
check "init -s, sysinit, then rescue" \
    jobs_are $'system-control init -s\nsystem-control start sysinit\nsystem-control start rescue'
kill -48 "$P1"; wait_exit 20
cleanup

echo "# emergency boot (-b)"
boot -- -b || exit 1
wait_for "the emergency job" 10 grep -q "start emergency" "$T/jobs"
sleep 0.2
check "init -b then emergency only, no sysinit" \
    jobs_are $'system-control init -b\nsystem-control start emergency'
kill -48 "$P1"; wait_exit 20
cleanup

echo "# emergency works while a regular job hangs"
boot HW_HANG=1 || exit 1
touch "$T/hang-normal"  # too late for this boot's normal job? make sure: hang rescue too
touch "$T/hang-rescue"
kill -35 "$P1"  # rescue: hangs
sleep 0.2
kill -36 "$P1"  # emergency: its own channel
wait_for "the emergency job while rescue hangs" 10 grep -q "start emergency" "$T/jobs"
check "the emergency channel ran although a regular job is stuck" grep -q "start emergency" "$T/jobs"
kill -48 "$P1"; wait_exit 30
check "a hanging job does not stop the final poweroff" test "$STATUS" = 130
cleanup

echo "# a job past its time limit is killed"
boot HEARTWOOD_JOB_TIMEOUT=1 || exit 1
touch "$T/hang-rescue"
kill -35 "$P1"
wait_for "the time limit to kill the rescue job" 10 log_has "job rescue (pid .*) ran past its time limit"
wait_for "the regular channel to be free again" 10 log_has "job rescue killed by SIGKILL"
: > "$T/jobs"
kill -34 "$P1"
wait_for "normal to run after the killed job" 10 grep -q "start normal" "$T/jobs"
check "the channel serves the next job after a timeout" grep -q "start normal" "$T/jobs"
kill -48 "$P1"; wait_exit 20

cleanup

echo "# the log moves to /var once sysinit has made it writable"
BEFORE_BOOT='echo blocked > "$T/var"; LOG_DIRS="$T/var/log/system-manager:$T/log"' boot || exit 1
# The stand-in sysinit unblocks /var only once the logger has written to the fallback.
moved() { grep -q "moving the log to $T/var/log/system-manager" "$T/console"; }
check "after sysinit the logger moves to the /var directory" eventually 10 moved
kill -48 "$P1"; wait_exit 20
unset LOG_DIRS
check "lines logged after the move are in the /var directory" \
    grep -q "syncing filesystems\|service-manager exited\|final stop" "$T/var/log/system-manager/current"
check "lines logged before the move moved to the /var directory too" \
    grep -q "started the logger" "$T/var/log/system-manager/current"
check "and are no longer in the fallback directory" \
    test -z "$(cat "$T"/log/current "$T"/log/@* 2>/dev/null)"
cleanup

echo "# no service-manager to run: an emergency shell is offered instead of dying"
mkdir -p /tmp/hw-e2e-nosm
ln -sf "$BUILD_DIR/daemon/system-manager" "$BUILD_DIR/daemon/system-logger" \
    "$E2E_DIR/standins/system-control" /tmp/hw-e2e-nosm/
BOOT_PATH=/tmp/hw-e2e-nosm:/usr/bin:/bin boot || exit 1
check "the missing program is named with the failed step" \
    eventually 10 console_has "unable to start the service-manager: exec failed: No such file or directory"
check "an emergency shell is offered on the console" \
    eventually 10 console_has "offering an emergency shell on the console"
check "PID 1 keeps running and retrying" eventually 10 log_has "restarting service-manager in"
check "the boot jobs still ran" eventually 10 grep -q "start normal" "$T/jobs"
kill -48 "$P1"; wait_exit 20
check "and it still powers off cleanly" test "$STATUS" = 130
rm -rf /tmp/hw-e2e-nosm
unset LOG_DIRS

finish
