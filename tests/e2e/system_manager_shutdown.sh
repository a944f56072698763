#!/bin/bash
# system-manager as PID 1: every way to the end, each seen from outside with the wait status
# reboot(2) gives in a PID namespace (SIGINT for halt and poweroff, SIGHUP for reboot; kexec is
# refused there, so it ends as a reboot), and a stuck service that cannot hold the shutdown past
# its grace time.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT

shutdown_case "SIGRTMIN+13 (forced halt)" 47 130 "halt now"
shutdown_case "SIGRTMIN+14 (forced poweroff)" 48 130 "poweroff now"
shutdown_case "SIGRTMIN+15 (forced reboot)" 49 129 "reboot now"
shutdown_case "SIGRTMIN+3 (halt target)" 37 130 "halt now"
shutdown_case "SIGRTMIN+4 (poweroff target)" 38 130 "poweroff now"
shutdown_case "SIGRTMIN+5 (reboot target)" 39 129 "reboot now"
shutdown_case "SIGRTMIN+16 (forced kexec, refused in a PID namespace)" 50 129 "reboot now"
shutdown_case "SIGRTMIN+6 (kexec target, refused in a PID namespace)" 40 129 "reboot now"
shutdown_case "SIGINT (Ctrl-Alt-Del: reboot target)" INT 129 "reboot now"
shutdown_case "SIGPWR (power failure: poweroff target)" PWR 130 "poweroff now"
shutdown_case "SIGTERM in a container (docker stop: poweroff target)" TERM 130 "poweroff now"

echo "# the shutdown jobs ran in between"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
wait_for "the service-manager's SIGTERM trap" 10 log_has "stand-in service-manager up"
kill -38 "$P1"
wait_exit 30
check "SIGRTMIN+4 ran 'system-control start poweroff' before the end" \
    grep -q "system-control start poweroff" "$T/jobs"
check "the service-manager was asked to stop" log_has "stand-in service-manager stopping"
check "the logger wrote out everything and exited at EOF" console_has "the logger exited 0"
cleanup

echo "# kexec in a PID namespace: the kexec job, then a logged refusal, then a reboot"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
kill -40 "$P1"
wait_exit 30
check "kexec ends the namespace as a reboot does (SIGHUP)" test "$STATUS" = 129
check "SIGRTMIN+6 ran 'system-control start kexec'" grep -q "system-control start kexec" "$T/jobs"
check "the final step was kexec" log_has "signal 50 from pid [0-9]*: final kexec"
check "the refused kexec is logged with its reason" console_has \
    "unable to kexec into the loaded kernel: Invalid argument (in a container: the kernel does not kexec from a PID namespace); rebooting instead"
check "kexec was tried before the reboot" \
    awk '/kexec now/ {k = NR} /reboot now/ {r = NR} END {exit !(k && r > k)}' "$T/console"
cleanup

echo "# a poweroff request cuts a hanging boot job short"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
touch "$T/hang-rescue"
kill -35 "$P1"
wait_for "the hanging rescue job" 10 grep -q "start rescue" "$T/jobs"
start=$SECONDS
kill -38 "$P1"
wait_exit 30
check "poweroff does not wait for the stuck rescue job" test "$STATUS" = 130
check "the stuck job was cut short" log_has "cutting the running boot job short for poweroff"
cleanup

echo "# a stuck service-manager and a SIGTERM-ignoring process"
BEFORE_BOOT='touch "$T/stuck"' boot HEARTWOOD_MANAGER_STOP=2 HEARTWOOD_KILL_GRACE=2 || exit 1
# Running is not yet ignoring SIGTERM: wait for the stand-in's line (said after its trap) and
# for the straggler's file (made after its own); and for the boot jobs, whose drain would count.
wait_for "the stuck service-manager" 10 log_has "stand-in service-manager up"
wait_for "its straggler" 10 test -e "$T/straggler"
wait_for "the boot jobs" 10 log_has "job normal exited"
start=$SECONDS
kill -48 "$P1"
wait_exit 30
took=$((SECONDS - start))
check "shutdown still ends in poweroff" test "$STATUS" = 130
check "the service-manager that ignored SIGTERM was killed" \
    console_has "the service-manager did not stop in 2s; killing it"
check "the straggler was named before it was killed" console_has "killing stragglers: sleep\["
# 2 + 2 s expected; a sanity bound only, which still tells a default (10 or 30 s) used for one.
check "shutdown took no longer than both grace times and some slack (${took}s <= 10s)" \
    test "$took" -le 10

finish
