# SIGTERM to service-manager stops every service, each within its own timeout-stop, then it
# exits 0; its successor finds them all stopped and restarts none.
. "$E2E_DIR/lib.sh"
# stubborn is ready once it ignores SIGTERM (before, a SIGTERM would just kill it).
mkservice stubborn 'trap "" TERM; echo >&3; exec sleep 1000' timeout-stop=0.3 notification-fd=3
mkservice plain 'exec sleep 1000'
mkservice withstop 'exec sleep 1000' "stop=echo stopped > $WORK/stopped"
$SMCTL load-dir "$B"
$SMCTL start stubborn plain withstop
wait_state ready 5000 stubborn plain withstop
pids="$(field stubborn pid) $(field plain pid) $(field withstop pid)"
sm=$(pids_of service-manager)
t0=$(now_ms)
kill -TERM "$sm"
while alive "$sm"; do sleep 0.02; done
t1=$(now_ms)
say "service-manager stopped 3 services and exited in $((t1 - t0)) ms"
# A sanity bound: it tells stubborn's 0.3 s timeout-stop from the 10 s default; a loaded
# machine gets plenty of room.
[ $((t1 - t0)) -lt 8000 ] || fail "shutdown took $((t1 - t0)) ms"
for p in $pids; do alive "$p" && fail "pid $p survived the shutdown"; done
[ -e "$WORK/stopped" ] || fail "the stop program did not run"
$SMCTL list > "$WORK/after"   # the successor (PID 1 restarts it)
[ "$(grep -c 'state=stopped' "$WORK/after")" = 3 ] || fail "after shutdown: $(cat "$WORK/after")"
say ok
