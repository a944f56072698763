# Descriptor limits: every program of a service starts with a soft RLIMIT_NOFILE of 1024 (where
# select() stops working) and keeps the service-manager's hard limit, which it may raise its soft
# limit to; the service-manager itself keeps its own, higher soft limit.
. "$E2E_DIR/lib.sh"
sm=$(pids_of service-manager)
limits() { awk '/^Max open files/ {print $4, $5}' "/proc/$1/limits"; }
set -- $(limits "$sm")
sm_soft=$1 sm_hard=$2
[ "$sm_hard" -gt 1024 ] || { say "skipped: the hard limit on descriptors is only $sm_hard"; exit 77; }
[ "$sm_soft" -gt 1024 ] || fail "service-manager's soft limit is $sm_soft, not above 1024"
mkservice files "echo \$(ulimit -Sn) \$(ulimit -Hn) > $WORK/run; ulimit -n $sm_hard && echo raised > $WORK/raised; exec sleep 1000" \
    start="echo \$(ulimit -Sn) \$(ulimit -Hn) > $WORK/start"
load files
$SMCTL start files
wait_state ready 5000 files
wait_file "$WORK/run"
wait_file "$WORK/raised"
[ "$(cat "$WORK/start")" = "1024 $sm_hard" ] ||
    fail "start ran with limits '$(cat "$WORK/start")', expected '1024 $sm_hard'"
[ "$(cat "$WORK/run")" = "1024 $sm_hard" ] ||
    fail "run ran with limits '$(cat "$WORK/run")', expected '1024 $sm_hard'"
[ "$(limits "$(field files pid)")" = "$sm_hard $sm_hard" ] ||
    fail "the service could not raise its soft limit to the hard one"
[ "$(limits "$sm")" = "$sm_soft $sm_hard" ] || fail "service-manager's own limits changed"
say ok
