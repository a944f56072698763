# A service starts, is ready, answers letters through its control FIFO, and stops.
. "$E2E_DIR/lib.sh"
mkservice one 'exec sleep 1000'
load one
expect_field one state stopped
[ -p /run/service-manager/supervise/one/control ] || fail "no control FIFO"
[ -p /run/service-manager/supervise/one/ok ] || fail "no ok FIFO"
$SMCTL start one
wait_state ready 5000 one
pid=$(field one pid)
alive "$pid" || fail "pid $pid is not running"
[ "$(stat -c %s /run/service-manager/supervise/one/status)" = 87 ] || fail "status is not 87 bytes"
# byte 18: encore state 3 (running); bytes 12-15: pid, little-endian
state=$(od -An -tu1 -j18 -N1 /run/service-manager/supervise/one/status | tr -d ' ')
[ "$state" = 3 ] || fail "encore state byte is $state"
filepid=$(od -An -tu4 -j12 -N4 --endian=little /run/service-manager/supervise/one/status | tr -d ' ')
[ "$filepid" = "$pid" ] || fail "status file pid $filepid, expected $pid"
printf d > /run/service-manager/supervise/one/control
wait_state stopped 5000 one
alive "$pid" && fail "pid $pid survived d"
expect_field one want down
# Unknown services and bad letters are errors with messages, not silence.
$SMCTL start nosuch 2>&1 | grep -q "no such service" || fail "start of an unknown service"
$SMCTL signal one '!' 2>&1 | grep -q "unknown control letter" || fail "bad letter"
$SMCTL unload one
$SMCTL status one 2>/dev/null && fail "still loaded after unload"
# cgroup/ settings where there are no cgroups (process groups here): reported, and it runs.
mkservice limited 'exec sleep 1000'
mkdir "$B/limited/service/cgroup" && echo 3 > "$B/limited/service/cgroup/pids.max"
load limited
$SMCTL start limited
wait_state ready 5000 limited
# A core cgroup file is refused when the bundle is read, naming the file.
mkservice sneaky 'exec sleep 1000'
mkdir "$B/sneaky/service/cgroup" && echo 1 > "$B/sneaky/service/cgroup/cgroup.procs"
load sneaky 2>&1 | grep -q "cgroup/cgroup.procs: not a cgroup setting" ||
    fail "cgroup/cgroup.procs was not refused"
say ok
