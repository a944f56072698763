# Processes a service leaves behind are part of its tree: stopping the service kills a
# double-forked child, and leftovers of a run that exited are killed before the restart.
. "$E2E_DIR/lib.sh"
mkservice forker "( sleep 1000 & echo \$! > $WORK/grandchild ); exec sleep 1000"
mkservice daemonish "( sleep 1000 & echo \$! > $WORK/daemon ); exit 0" remain=
mkservice leaver "( sleep 1000 & echo \$! >> $WORK/left ); sleep 0.2; exit 1" restart-delay=5
load forker; load daemonish; load leaver
$SMCTL start forker daemonish
wait_state ready 5000 forker daemonish
# Ready means run was executed, not that its script got as far as writing the pid files.
wait_file "$WORK/grandchild"
gc=$(cat "$WORK/grandchild")
alive "$gc" || fail "grandchild not running"
ppid=$(awk '{print $4}' /proc/$gc/stat)
say "double-forked child $gc has parent $ppid (service-manager is a subreaper)"
$SMCTL stop forker
wait_state stopped 5000 forker
alive "$gc" && fail "the double-forked child $gc survived the stop"
# remain: run exits 0, the service stays up with its daemon; stopping kills the daemon.
wait_file "$WORK/daemon"
d=$(cat "$WORK/daemon")
alive "$d" || fail "daemon not running under remain"
expect_field daemonish state ready
$SMCTL stop daemonish
wait_state stopped 5000 daemonish
alive "$d" && fail "the daemon of a remain service survived the stop"
# Without remain, leftovers are killed before the restart decision (run exits after 0.2 s, or
# later on a loaded machine: wait for it), and nothing but the service's stop kills them later.
$SMCTL start leaver
wait_file "$WORK/left"
first=$(head -n1 "$WORK/left")
eventually 10 gone "$first" || fail "a leftover of an exited run survived"
$SMCTL stop leaver
wait_state stopped 5000 leaver
say ok
