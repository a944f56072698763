# Helpers for e2e tests (sourced). $WORK is scratch space, $SMCTL the test client.
B=$WORK/bundles
mkdir -p "$B"

say() { echo "e2e: $*"; }
fail() { echo "e2e: FAIL: $*" >&2; exit 1; }

# mkservice NAME RUN-SCRIPT-BODY [FILE=CONTENT ...]: a bundle with service/run (and other files)
mkservice() {
    name=$1 body=$2
    shift 2
    mkdir -p "$B/$name/service"
    printf '#!/bin/sh\n%s\n' "$body" > "$B/$name/service/run"
    chmod +x "$B/$name/service/run"
    for kv in "$@"; do
        f=${kv%%=*}
        v=${kv#*=}
        case $f in
            start|stop|restart)
                printf '#!/bin/sh\n%s\n' "$v" > "$B/$name/service/$f"
                chmod +x "$B/$name/service/$f" ;;
            *) printf '%s\n' "$v" > "$B/$name/service/$f" ;;
        esac
    done
}

load() { $SMCTL load "$1" "$B/$1"; }
field() { # field NAME KEY: one key=value of `smctl status`
    $SMCTL status "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
expect_field() { # expect_field NAME KEY VALUE
    got=$(field "$1" "$2")
    [ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}
wait_state() { # wait_state STATE MS NAME...
    $SMCTL wait "$@" || fail "waiting for $3 to be $1"
}
alive() { kill -0 "$1" 2>/dev/null; }
is_zombie() { [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
gone() { ! kill -0 "$1" 2>/dev/null; }
now_ms() { date +%s%3N; }
# eventually SECONDS CMD...: retries CMD every 50 ms until it succeeds (0) or SECONDS have passed
# (1). For conditions the system under test reaches at an unknown moment: a loaded machine may
# take much longer than a quiet one, so give SECONDS generously; the wait ends as soon as it holds.
eventually() {
    _until=$(($(now_ms) + $1 * 1000))
    shift
    until "$@"; do
        [ "$(now_ms)" -lt "$_until" ] || return 1
        sleep 0.05
    done
}
# wait_file FILE: up to 10 s for FILE (written by a service's script) to be non-empty.
wait_file() { eventually 10 test -s "$1" || fail "$1 was never written"; }
pids_of() { # pids_of COMM: pids of the processes whose command name is COMM
    for p in /proc/[0-9]*; do
        [ "$(cat "$p/comm" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"
    done
    true
}
trap 'st=$?; [ $st = 0 ] || echo "e2e: test script ended with status $st" >&2' EXIT

# A logger that loses nothing on SIGTERM: it exits between two chunks, leaving what it has not
# read in the pipe for its successor. (A plain `cat` killed between its read and its write loses
# that chunk; no pipe can help.) It says it is ready on fd 3 (give the service
# notification-fd=3) once it handles SIGTERM: a SIGTERM before that (python starting up on a
# slow machine) would kill it outright.
LOGGER='exec python3 -c "
import os, select, signal, sys
r, w = os.pipe()
os.set_blocking(w, False)
signal.set_wakeup_fd(w)
signal.signal(signal.SIGTERM, lambda *_: None)
out = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
try:
    os.write(3, bytes([10]))
except OSError:
    pass
while True:
    ready = select.select([0, r], [], [])[0]
    if r in ready:
        break
    data = os.read(0, 65536)
    if not data:
        break
    os.write(out, data)
" '
