# Shared helpers for the end-to-end tests: boot the real system-manager as PID 1 of a fresh
# user+PID+mount namespace (root inside, harmless to the host), look inside, and collect its
# exit. Source it; it needs BUILD_DIR (the meson build dir) in the environment.
#
#   boot [VAR=value ...] [-- system-manager args]   starts it in the background; sets T (a
#                                                  scratch dir), NS (unshare's pid), P1 (PID 1
#                                                  as the host sees it). $BEFORE_BOOT, if set,
#                                                  is evaluated once T exists (to place hooks);
#                                                  $BOOT_PATH replaces the PATH it gets,
#                                                  $LOG_DIRS the log directories, and
#                                                  $PID1_PREFIX (a command) runs it
#                                                  (e.g. setpriv, to drop a capability)
#   in_ns CMD...                                   runs CMD inside the namespace
#   wait_for DESCRIPTION SECONDS CMD...            retries CMD until it succeeds or time is up
#   wait_exit SECONDS                              waits for the namespace to end; sets STATUS
#                                                  (130 = SIGINT = poweroff/halt, 129 = SIGHUP
#                                                  = reboot, as reboot(2) reports in a PID ns;
#                                                  else system-manager's own exit status)
set -u
: "${BUILD_DIR:?set BUILD_DIR to the meson build directory}"
E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAILURES=0
PASSES=0

fail() { echo "FAIL: $*"; FAILURES=$((FAILURES + 1)); }
pass() { echo "ok: $*"; PASSES=$((PASSES + 1)); }
check() {  # check DESCRIPTION CMD...
    local what=$1
    shift
    if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
    echo "$PASSES passed, $FAILURES failed"
    [ "$FAILURES" -eq 0 ]
}

boot() {
    T=$(mktemp -d /tmp/hw-e2e.XXXXXX)
    : > "$T/console"
    : > "$T/jobs"
    if [ -n "${BEFORE_BOOT:-}" ]; then eval "$BEFORE_BOOT"; fi
    local vars=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    env -i PATH="${BOOT_PATH:-$E2E_DIR/standins:$BUILD_DIR/daemon:$BUILD_DIR/ctl:/usr/sbin:/usr/bin:/sbin:/bin}" \
        HW_TEST_DIR="$T" HEARTWOOD_LOG_DIRS="${LOG_DIRS:-$T/log}" "${vars[@]}" \
        unshare --user --map-root-user --pid --fork --mount --kill-child \
        sh -c 'mount -t tmpfs tmpfs /run && mount --bind "$HW_TEST_DIR/console" /dev/console &&
               exec $0 system-manager "$@"' "${PID1_PREFIX:-}" "$@" \
        > "$T/outer.log" 2>&1 &
    NS=$!
    P1=""
    local i
    for i in $(seq 500); do
        P1=$(cat "/proc/$NS/task/$NS/children" 2>/dev/null | awk '{print $1}')
        # Ready for signals once it has blocked them (it reads them from a signalfd).
        [ -n "$P1" ] && [ "$(cat /proc/$P1/comm 2>/dev/null)" = system-manager ] &&
            ! grep -q '^SigBlk:[[:space:]]*0*$' "/proc/$P1/status" 2>/dev/null && return 0
        sleep 0.01
    done
    echo "system-manager did not start; outer log:"; cat "$T/outer.log"
    return 1
}

in_ns() { nsenter -t "$P1" -U -m -p --preserve-credentials -- "$@"; }

eventually() {  # eventually SECONDS CMD...: retries CMD until it succeeds (0) or time is up (1)
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.02
    done
}

wait_for() {  # wait_for DESCRIPTION SECONDS CMD...
    local what=$1 limit=$2
    shift 2
    eventually "$limit" "$@" || { fail "timed out after ${limit}s waiting for: $what"; return 1; }
}

wait_exit() {  # wait_exit SECONDS
    local deadline=$((SECONDS + $1))
    while kill -0 "$NS" 2>/dev/null; do
        if [ $SECONDS -ge $deadline ]; then
            fail "the namespace did not end within $1s; killing it"
            kill -9 "$NS" 2>/dev/null
            break
        fi
        sleep 0.02
    done
    wait "$NS"
    STATUS=$?
}

# The host pid of PID 1's child running program NAME (by /proc comm), or nothing.
child_of_pid1() {
    local c
    for c in $(cat "/proc/$P1/task/$P1/children" 2>/dev/null); do
        [ "$(cat /proc/$c/comm 2>/dev/null)" = "$1" ] && { echo "$c"; return 0; }
    done
    return 1
}

log_has() { grep -q -- "$1" "$T/log/current" 2>/dev/null; }
console_has() { grep -q -- "$1" "$T/console" 2>/dev/null; }
jobs_are() {
    [ "$(cat "$T/jobs")" = "$1" ] && return 0
    echo "jobs were:"; sed 's/^/  /' "$T/jobs"
    return 1
}

# shutdown_case DESCRIPTION SIGNAL EXPECTED_STATUS CONSOLE_LINE [boot VARs...]: boots, sends
# SIGNAL once the normal job runs, checks the namespace's status and a console line, cleans up.
shutdown_case() {
    local what=$1 sig=$2 expected=$3 line=$4
    shift 4
    boot "$@" || { fail "$what: boot"; return; }
    wait_for "the normal job" 10 grep -q "start normal" "$T/jobs"
    kill "-$sig" "$P1"
    wait_exit 30
    check "$what ends with status $expected" test "$STATUS" = "$expected"
    check "$what says '$line' on the console" console_has "$line"
    cleanup
}

# Exits 77 (meson's skip) unless tests/e2e/docker-like can run here: it drops capabilities
# with setpriv inside a user namespace.
require_docker_like() {
    unshare --user --map-root-user --pid --fork --mount "$E2E_DIR/docker-like" true 2>/dev/null &&
        return 0
    echo "SKIP: cannot drop capabilities with setpriv here"
    exit 77
}

cleanup() {
    [ -n "${NS:-}" ] && kill -9 "$NS" 2>/dev/null
    [ -n "${T:-}" ] && [ -z "${KEEP:-}" ] && rm -rf "$T"
    return 0
}
