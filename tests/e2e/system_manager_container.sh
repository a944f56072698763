#!/bin/bash
# system-manager as a container's PID 1: how it ends, seen from the container runtime (the
# namespace's wait status).
# - Docker and Podman withhold CAP_SYS_BOOT, so reboot(2) is refused in the container; PID 1
#   then exits itself: 0 after halt or poweroff (`docker stop`), 129 after reboot. Simulated by
#   tests/e2e/docker-like: the container's own /proc and Docker's default capabilities.
# - `system-control exit N` ends the container with status N, with or without CAP_SYS_BOOT;
#   a main service's `restart` can pass on how it ended (128 + N for a signal).
# - A shutdown job that ends without asking for its final action still leads to it.
source "$(dirname "$0")/lib.sh"
trap cleanup EXIT
docker_like=$E2E_DIR/docker-like
require_docker_like
real_ctl=$BUILD_DIR/ctl/system-control

echo "# as under Docker (no CAP_SYS_BOOT): PID 1 exits instead of reboot(2)"
PID1_PREFIX=$docker_like
shutdown_case "docker stop (SIGTERM: poweroff target)" TERM 0 \
    "unable to poweroff the container: Operation not permitted; exiting with status 0 instead"
shutdown_case "SIGRTMIN+13 (forced halt)" 47 0 "exiting with status 0 instead"
shutdown_case "SIGRTMIN+5 (reboot target)" 39 129 \
    "unable to reboot the container: Operation not permitted; exiting with status 129 instead"
unset PID1_PREFIX

echo "# system-control exit N, with CAP_SYS_BOOT: status N instead of the SIGINT of reboot(2)"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
check "system-control exit 3 is taken" in_ns "$real_ctl" exit 3
wait_exit 30
check "the container ends with status 3" test "$STATUS" = 3
check "it went through the poweroff target" grep -q "system-control start poweroff" "$T/jobs"
check "PID 1 logged who asked" log_has "pid [0-9]* asks for exit status 3 when the system stops"
check "PID 1 says why it exits" console_has "exiting with status 3 (ends the container)"
cleanup

echo "# system-control exit -f with a restart program's arguments: at once, 128 + the signal"
boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
# Its own exit status is not checked: the final stop it asks for may end it first.
in_ns "$real_ctl" exit -f kill KILL 9
wait_exit 30
check "the container ends with status 137" test "$STATUS" = 137
check "no poweroff job ran" bash -c "! grep -q 'start poweroff' '$T/jobs'"
cleanup

echo "# a poweroff job that fails without asking for the final poweroff"
BEFORE_BOOT='touch "$T/fail-poweroff"' \
    shutdown_case "SIGRTMIN+4 with a failing poweroff job" 38 130 "poweroff now"
BEFORE_BOOT='touch "$T/fail-poweroff"' boot || exit 1
wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
kill -38 "$P1"
wait_exit 30
check "PID 1 carried out the poweroff the job did not ask for" \
    log_has "job poweroff ended without asking for the final poweroff; carrying it out now"
cleanup

echo "# a container's main service ends it with its own status (real service-manager)"
# app exits 7; its restart program passes that on (`exit 7`) and refuses the restart.
B=$(mktemp -d /tmp/hw-e2e-bundles.XXXXXX)
mkdir -p "$B/targets/sysinit" "$B/targets/normal/wants" "$B/targets/poweroff/service" \
    "$B/services/app/service"
ln -s ../../../services/app "$B/targets/normal/wants/app"
printf '#!/bin/sh\nexec system-control poweroff --force\n' > "$B/targets/poweroff/service/run"
printf '#!/bin/sh\necho app ran\nexit 7\n' > "$B/services/app/service/run"
printf '#!/bin/sh\nsystem-control exit "$@"\nexit 1\n' > "$B/services/app/service/restart"
chmod +x "$B/targets/poweroff/service/run" "$B/services/app/service/run" \
    "$B/services/app/service/restart"
BOOT_PATH="$BUILD_DIR/daemon:$BUILD_DIR/ctl:/usr/sbin:/usr/bin:/sbin:/bin" \
    PID1_PREFIX=$docker_like boot HEARTWOOD_NO_CGROUPS=1 HEARTWOOD_BUNDLE_PATH="$B" ||
    exit 1
wait_exit 60
check "the container ends with app's status, 7" test "$STATUS" = 7
check "app ran" log_has "app ran"
check "its restart program asked for status 7" log_has "asks for exit status 7"
cleanup
rm -rf "$B"
finish
