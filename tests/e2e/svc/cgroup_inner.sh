# Run by cgroup.sh inside its namespaces: service-manager uses a cgroup per service.
. "$E2E_DIR/lib.sh"
mkservice escaper "setsid sh -c 'sleep 1000 & echo \$! > $WORK/escaped'; exec sleep 1000"
mkservice stubborn 'trap "" TERM; exec sleep 1000' timeout-stop=0.3
mkservice notifier "setsid sh -c 'systemd-notify --ready --status=from-a-new-session' ; exec sleep 1000" sd_notify=
mkservice limited 'exec sleep 1000'
mkdir "$B/limited/service/cgroup" && echo 3 > "$B/limited/service/cgroup/pids.max"
$SMCTL load-dir "$B"
# Its setting is made where the pids controller reaches services (not in every scratch
# cgroup: one that holds processes cannot hand controllers down); either way it runs.
$SMCTL start limited
wait_state ready 5000 limited
if [ -e /sys/fs/cgroup/services/limited/pids.max ]; then
    [ "$(cat /sys/fs/cgroup/services/limited/pids.max)" = 3 ] || fail "pids.max was not set"
    say "limited: pids.max is 3"
fi
$SMCTL stop limited
$SMCTL start escaper stubborn
wait_state ready 5000 escaper stubborn
grep -q '^0::/services/escaper$' /proc/$(field escaper pid)/cgroup ||
    fail "escaper is not in its cgroup: $(cat /proc/$(field escaper pid)/cgroup)"
[ -d /sys/fs/cgroup/services/stubborn ] || fail "no cgroup for stubborn"
sleep 0.1
e=$(cat "$WORK/escaped")
[ "$(awk '{print $6}' /proc/$e/stat)" != "$(field escaper pid)" ] || fail "the escaper did not leave the session"
$SMCTL stop escaper
wait_state stopped 5000 escaper
alive "$e" && fail "a process that left its session survived the stop (cgroup mode)"
t0=$(now_ms)
$SMCTL stop stubborn
wait_state stopped 5000 stubborn
say "stubborn killed through cgroup.kill after $(( $(now_ms) - t0 )) ms"
grep -q 'populated 0' /sys/fs/cgroup/services/stubborn/cgroup.events || fail "stubborn cgroup not empty"
if command -v systemd-notify >/dev/null; then
    $SMCTL start notifier
    wait_state ready 5000 notifier
    $SMCTL status notifier | grep -q 'text=from-a-new-session' || fail "STATUS= not attributed by cgroup"
fi
# kill -9 of the manager: re-adoption works in cgroup mode too.
$SMCTL start escaper
wait_state ready 5000 escaper
before=$(field escaper pid)
kill -9 "$(pids_of service-manager)"
$SMCTL wait ready 5000 escaper
[ "$(field escaper pid)" = "$before" ] || fail "escaper was restarted after kill -9 of the manager"
$SMCTL stop escaper
wait_state stopped 5000 escaper
say ok
