# kill -9 of service-manager and of a service's run program together (what `kill -9 -1` does to a
# service whose run has a child that survives, e.g. the caller of kill): the successor learns
# that run ended while no manager ran (restart gets `exit 255`, or the signal if the zombie is
# still there), stops the leftover child of its tree (TERM), and runs run again. A service whose
# main process survived is re-adopted as it is (same pid, still ready).
. "$E2E_DIR/lib.sh"
mkservice parent "sleep 1000 & echo \$! > $WORK/child; wait" \
    "restart=echo \"\$@\" >> $WORK/restart-args; exit 0"
mkservice survivor 'exec sleep 1000'
$SMCTL load-dir "$B"
$SMCTL start parent survivor
wait_state ready 5000 parent survivor
while [ ! -s "$WORK/child" ]; do sleep 0.05; done
main=$(field parent pid) child=$(cat "$WORK/child") keep=$(field survivor pid)
sm=$(pids_of service-manager)
kill -9 "$sm" "$main"
$SMCTL list >/dev/null   # blocks until the successor answers
i=0
while alive "$child" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
alive "$child" && fail "the leftover child $child of parent's ended run is still alive"
wait_state ready 5000 parent
new=$(field parent pid)
[ "$new" != "$main" ] && alive "$new" || fail "parent's run was not run again ($main -> $new)"
args=$(cat "$WORK/restart-args")
case $args in "exit 255" | "kill KILL 9") ;; *) fail "restart got '$args'" ;; esac
say "parent: restart got '$args', leftover $child stopped, run again as $new"
expect_field survivor pid "$keep"
expect_field survivor state ready
alive "$keep" || fail "survivor ($keep) is gone"
say ok
