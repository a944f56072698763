# kill -9 of service-manager with 100 services up: its successor (restarted by PID 1) re-adopts
# every one of them: same pids, no restart, still ready, still controllable.
. "$E2E_DIR/lib.sh"
names=
for i in $(seq 1 100); do
    mkservice "s$i" 'exec sleep 1000'
    names="$names s$i"
done
t0=$(now_ms)
$SMCTL load-dir "$B"
$SMCTL start $names
wait_state ready 5000 $names
t1=$(now_ms)
say "100 services loaded, started and ready in $((t1 - t0)) ms"
$SMCTL list | sort > "$WORK/before"
[ "$(grep -c 'state=ready' "$WORK/before")" = 100 ] || fail "not all ready"
sm=$(pids_of service-manager)
[ -n "$sm" ] || fail "no service-manager process found"
t2=$(now_ms)
kill -9 "$sm"
$SMCTL list | sort > "$WORK/after"   # blocks until the successor answers
t3=$(now_ms)
sm2=$(pids_of service-manager)
[ "$sm2" != "$sm" ] || fail "service-manager was not replaced"
say "successor $sm2 answered $((t3 - t2)) ms after kill -9 of $sm"
diff "$WORK/before" "$WORK/after" || fail "services changed across the manager restart"
for p in $(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' "$WORK/after"); do
    alive "$p" || fail "pid $p is gone"
done
# Exactly one process per service: no duplicate was started.
n=$(pids_of sleep | wc -l)
[ "$n" = 100 ] || fail "$n sleep processes, expected 100"
# The successor controls them: stop one, and it really stops.
victim=$(field s7 pid)
$SMCTL stop s7
wait_state stopped 5000 s7
alive "$victim" && fail "s7 ($victim) survived a stop by the successor"
# ... and sees their deaths: kill one, it is restarted.
p9=$(field s9 pid)
kill "$p9"
restarted() { n9=$(field s9 pid) && [ "$n9" != "$p9" ] && [ "$n9" != 0 ] && alive "$n9"; }
eventually 10 restarted || fail "s9 was not restarted after its adopted process died"
say ok
