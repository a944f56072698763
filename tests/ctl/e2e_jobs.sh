# system-control against the real service-manager (under fake-pid1, see tests/e2e/run.sh):
# start/stop closure and order, a failed requirement, a start timeout, restart, isolate,
# conflicts, and the query verbs. $SC is system-control; bundles live under $R.
. "$E2E_DIR/lib.sh"
R=$WORK/root
export HEARTWOOD_BUNDLE_PATH=$R
svc() { # svc NAME RUN-BODY [FILE=CONTENT ...]: a service bundle under $R/services
    saved=$B
    B=$R/services
    mkservice "$@"
    B=$saved
}
rel() { # rel FROM KIND TO: FROM/KIND/TO -> TO (both services unless prefixed targets/)
    from=$1 kind=$2 to=$3
    case $from in targets/*) f=$R/$from ;; *) f=$R/services/$from ;; esac
    case $to in targets/*) t=$R/$to ;; *) t=$R/services/$to ;; esac
    mkdir -p "$f/$kind"
    ln -s "$t" "$f/$kind/${to##*/}"
}
target() { mkdir -p "$R/targets/$1"; }
pid_of() { $SC show "$1" | sed -n 's/^MainPID=//p'; }

# db is ready only once it has written its line, so "after db" orders the two writes.
svc db 'echo "db up" >> '"$WORK"'/order; echo >&3; exec sleep 1000' notification-fd=3
svc web 'echo "web up" >> '"$WORK"'/order; echo "hello from web"; exec sleep 1000' \
    stop='echo "web stopped" >> '"$WORK"'/order'
svc cache 'exec sleep 1000' start='exit 3'
svc logger 'exec cat >> '"$WORK"'/logs/current'
mkdir -p "$WORK/logs"
ln -s "$WORK/logs" "$R/services/logger/main"
rel web requires db
rel web after db
rel web wants cache
ln -s ../logger "$R/services/web/log"
target normal
rel targets/normal wants web
target other
svc lonely 'exec sleep 1000'
rel targets/other wants lonely
target shutdown
rel targets/shutdown conflicts web
rel targets/shutdown after web

$SC check || fail "check found problems"
$SC start normal || fail "start normal failed"
for s in normal web db logger; do
    $SC is-active -q "$s" || fail "$s is not active after start normal"
done
grep -q "db up" "$WORK/order" || fail "db never ran"
[ "$(head -1 "$WORK/order")" = "db up" ] || fail "web started before db: $(cat "$WORK/order")"
$SC status web | grep -q "state:     ready" || fail "status web: $($SC status web)"
for _ in $(seq 50); do grep -q "hello from web" "$WORK/logs/current" 2>/dev/null && break; sleep 0.1; done
$SC status web | grep -q "^    hello from web" || fail "status web shows no log: $($SC status web)"
$SC show --json web | grep -q '"State":"ready"' || fail "show --json web"
$SC list | grep -q "^db  *ready" || fail "list: $($SC list)"

# Stopping db stops web first (web requires db and is after it).
: > "$WORK/order"
$SC stop db || fail "stop db failed"
$SC is-active -q web && fail "web still active after stop db"
$SC is-active -q db && fail "db still active"
[ "$(cat "$WORK/order")" = "web stopped" ] || fail "order of stops: $(cat "$WORK/order")"

# A requirement whose start program fails fails its dependent, which is never started.
svc broken 'exec sleep 1000' start='exit 1'
svc needy 'echo needy >> '"$WORK"'/order; exec sleep 1000'
rel needy requires broken
rel needy after broken
out=$($SC start needy 2>&1) && fail "start needy succeeded"
echo "$out" | grep -q "unable to start needy: dependency failed: requires broken" ||
    fail "start needy said: $out"
grep -q needy "$WORK/order" && fail "needy ran"

# A service that never gets ready times out (our default, shorter than its own).
svc sleepy 'exec sleep 1000' notification-fd=3
t0=$(now_ms)
out=$($SC --timeout 0.5 start sleepy 2>&1) && fail "start sleepy succeeded"
t1=$(now_ms)
echo "$out" | grep -q "unable to start sleepy: timed out" || fail "start sleepy said: $out"
[ $((t1 - t0)) -lt 5000 ] || fail "the timeout took $((t1 - t0)) ms"
$SC stop sleepy >/dev/null

# restart gives a new process; try-restart leaves a stopped service alone.
$SC start web || fail "start web"
before=$(pid_of web)
$SC restart web || fail "restart web"
after=$(pid_of web)
[ -n "$after" ] && [ "$after" != 0 ] && [ "$after" != "$before" ] ||
    fail "restart: pid $before -> $after"
$SC try-restart lonely || fail "try-restart of a stopped service"
$SC is-active -q lonely && fail "try-restart started lonely"

# Conflicts: starting shutdown stops web before shutdown itself is up.
$SC start shutdown || fail "start shutdown"
$SC is-active -q web && fail "web survived start shutdown"
$SC is-active -q shutdown || fail "shutdown not active"

# isolate other: lonely starts, everything else that runs is stopped.
$SC stop shutdown >/dev/null
$SC start normal || fail "start normal again"
$SC isolate other || fail "isolate other"
$SC is-active -q lonely || fail "lonely not active after isolate"
for s in web db normal logger; do
    $SC is-active -q "$s" && fail "$s still active after isolate other"
done
$SC is-loaded -q web || fail "web was unloaded"
$SC is-loaded -q nosuch && fail "nosuch is loaded"
say ok
