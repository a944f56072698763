# sd_notify: NOTIFY_SOCKET datagrams attributed by sender pid; Debian's systemd-notify works
# from a non-systemd parent (it waits for the barrier, which we acknowledge by closing its fd).
. "$E2E_DIR/lib.sh"
command -v systemd-notify >/dev/null || { say "no systemd-notify here; skipping"; exit 77; }
# notifier says READY=1 only once the test creates $WORK/go, so however slow the machine, it
# must still be running (not ready) until then.
mkservice notifier "until [ -e $WORK/go ]; do sleep 0.02; done; "'systemd-notify --ready --status="serving requests" || echo "systemd-notify failed: $?" >&2; exec sleep 1000' sd_notify=
load notifier
t0=$(now_ms)
$SMCTL start notifier
expect_field notifier state running
sleep 0.3
expect_field notifier state running
: > "$WORK/go"
wait_state ready 5000 notifier
t1=$(now_ms)
say "systemd-notify --ready: ready after $((t1 - t0)) ms"
expect_field notifier text serving
$SMCTL status notifier | grep -q 'text=serving requests' || fail "STATUS= text not kept"
say ok

# MAINPID=: a forking daemon hands over to its child, then the launcher exits.
mkservice forking 'echo $$ > '"$WORK"'/launcher; sleep 1000 & systemd-notify --ready --pid=$!; exit 0' sd_notify=
load forking
$SMCTL start forking
wait_state ready 5000 forking
# The launcher exits right after READY=1: the service must stay up with its MAINPID.
launcher=$(cat "$WORK/launcher")
eventually 10 gone "$launcher" || fail "the launcher $launcher did not exit"
main=$(field forking pid)
[ "$(cat /proc/$main/comm)" = sleep ] || fail "MAINPID not taken: main is $(cat /proc/$main/comm)"
expect_field forking state ready
kill "$main"
restarted() { new=$(field forking pid) && [ "$new" != "$main" ] && [ "$new" != 0 ]; }
eventually 10 restarted || fail "the end of MAINPID $main did not restart the service"
expect_field forking restarts 1

# MAINPID= is taken even when the launcher has exited by the time the manager looks: the manager
# is stopped while the launcher sends MAINPID= and exits, so both wait for it together.
mkservice launcher 'while [ ! -e '"$WORK"'/go-launcher ]; do sleep 0.02; done
sleep 1000 & systemd-notify --ready --pid=$!; exit 0' sd_notify=
load launcher
$SMCTL start launcher
wait_state running 5000 launcher
first=$(field launcher pid)
sm=$(pids_of service-manager)
kill -STOP "$sm"
touch "$WORK/go-launcher"
eventually 30 is_zombie "$first" || { kill -CONT "$sm"; fail "the launcher ($first) did not exit"; }
kill -CONT "$sm"
wait_state ready 5000 launcher
main=$(field launcher pid)
[ "$main" != "$first" ] && [ "$(cat /proc/$main/comm)" = sleep ] ||
    fail "MAINPID lost to the launcher's exit: main is $main ($(cat /proc/$main/comm 2>&1))"
expect_field launcher restarts 0

# WATCHDOG=1: pinging keeps it; silence gets SIGABRT and a restart. The pinger pings ten times
# as often as its timeout asks, so a loaded machine's scheduling delays cannot fail it. silent
# needs ~0.3 s per round plus its start, which a loaded machine stretches: wait for its second
# restart (after watching the pinger for longer than its timeout).
mkservice pinger 'systemd-notify --ready; while :; do systemd-notify WATCHDOG=1; sleep 0.1; done' \
    watchdog-timeout=2 sd_notify=
mkservice silent 'systemd-notify --ready; exec sleep 1000' watchdog-timeout=0.3 sd_notify=
load pinger; load silent
$SMCTL start pinger silent
wait_state ready 5000 pinger silent
sleep 2.5
restarted_twice() { r=$(field silent restarts) && [ "$r" -ge 2 ]; }
eventually 15 restarted_twice || fail "silent was restarted $r times with a 300 ms watchdog"
expect_field pinger restarts 0
field silent exit | grep -qE '^(6|134)$' || fail "silent did not end by SIGABRT: $(field silent exit)"

# EXTEND_TIMEOUT_USEC= pushes the start timeout; STOPPING=1 shows as stopping.
mkservice extender 'systemd-notify EXTEND_TIMEOUT_USEC=2000000; sleep 0.7; systemd-notify --ready; sleep 0.3; systemd-notify STOPPING=1; exec sleep 1000' \
    timeout-start=0.4 sd_notify=
load extender
$SMCTL start extender
wait_state ready 5000 extender
wait_state stopping 5000 extender
say ok
