# Process-group mode (no usable cgroup): what a service leaves behind outside its process group
# (setsid, then its parent exits) is still its own, found through the HEARTWOOD_SERVICE marker
# among the service-manager's children: stopping the service kills it, and a service whose main
# process exited stays up (remain) until it is gone.
. "$E2E_DIR/lib.sh"
mkservice escaper "setsid sh -c 'sleep 1000 & echo \$! > $WORK/escaped'; exec sleep 1000"
mkservice vanisher "setsid sh -c 'sleep 1000 & echo \$! > $WORK/vanished'; exit 0" remain=
mkservice bystander "setsid sh -c 'sleep 1000 & echo \$! > $WORK/bystanding'; exec sleep 1000"
load escaper; load vanisher; load bystander
$SMCTL start escaper vanisher bystander
wait_state ready 5000 escaper vanisher bystander
for f in escaped vanished bystanding; do wait_file "$WORK/$f"; done
e=$(cat "$WORK/escaped") v=$(cat "$WORK/vanished") b=$(cat "$WORK/bystanding")
main=$(field escaper pid)
[ "$(awk '{print $6}' /proc/$e/stat)" != "$(awk '{print $6}' /proc/$main/stat)" ] ||
    fail "the escaped process did not leave the service's session"
tr '\0' '\n' < /proc/$e/environ | grep -qx HEARTWOOD_SERVICE=escaper ||
    fail "no HEARTWOOD_SERVICE marker in the escaped process's environment"
$SMCTL stop escaper
wait_state stopped 5000 escaper
eventually 10 gone "$e" || fail "the escaped process $e survived the stop of escaper"
alive "$b" || fail "stopping escaper killed bystander's escaped process $b"
# vanisher's run exited at once: with remain it is up while its escaped process lives.
expect_field vanisher state ready
$SMCTL stop vanisher
wait_state stopped 5000 vanisher
eventually 10 gone "$v" || fail "the escaped process $v survived the stop of vanisher"
# After a kill -9 of the manager, the escaped process is PID 1's child: the successor finds it.
sm=$(pids_of service-manager)
kill -9 "$sm"
$SMCTL list > /dev/null   # blocks until the successor answers
[ "$(pids_of service-manager)" != "$sm" ] || fail "service-manager was not replaced"
[ "$(awk '{print $4}' /proc/$b/stat)" = 1 ] || fail "bystander's escaped process is not PID 1's child"
$SMCTL stop bystander
wait_state stopped 5000 bystander
eventually 10 gone "$b" || fail "bystander's escaped process $b survived its stop by the successor"
say ok
