# kill -9 -1 with 100 services up: PID 1 restarts service-manager, which restarts every service
# that was wanted up; a producer's log pipe (kept in PID 1's fd store) loses nothing.
. "$E2E_DIR/lib.sh"
names=
for i in $(seq 1 100); do
    mkservice "s$i" 'exec sleep 1000'
    names="$names s$i"
done
# The logger moves data from the pipe to the file with splice(2), in the kernel: a kill -9
# cannot land between taking a chunk from the pipe and writing it, as it can with cat (whose
# lost chunk would look like a gap in the pipe the fd store keeps).
command -v python3 >/dev/null || { say "no python3 for the test logger; skipping"; exit 77; }
mkservice logger "exec python3 -c '
import os, sys
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.lseek(out, 0, os.SEEK_END)
while os.splice(0, out, 65536):
    pass
' $WORK/log"
mkservice producer "i=\$(cat $WORK/counter 2>/dev/null || echo 0)
while :; do i=\$((i + 1)); echo \$i; echo \$i > $WORK/counter; sleep 0.005; done"
ln -s ../logger "$B/producer/log"
mkservice down-one 'exec sleep 1000'
$SMCTL load-dir "$B"
$SMCTL start logger producer $names
wait_state ready 5000 logger producer $names
sleep 0.3
$SMCTL list | sort > "$WORK/before"
t0=$(now_ms)
kill -9 -1
$SMCTL wait ready 10000 logger producer $names || fail "not every service came back"
t1=$(now_ms)
say "all 102 services ready again $((t1 - t0)) ms after kill -9 -1"
$SMCTL list | sort > "$WORK/after"
for n in $names; do
    a=$(grep "^$n " "$WORK/before" | sed 's/.* pid=\([0-9]*\) .*/\1/')
    b=$(grep "^$n " "$WORK/after" | sed 's/.* pid=\([0-9]*\) .*/\1/')
    [ "$a" != "$b" ] || fail "$n kept pid $a after kill -9 -1?"
    alive "$b" || fail "$n ($b) is not running"
done
expect_field down-one state stopped
sleep 0.3
$SMCTL stop producer
wait_state stopped 5000 producer
sleep 0.2
# The log has every number from 1 to the last one (a repeat is allowed, a gap is not).
last=$(cat "$WORK/counter")
sort -n -u "$WORK/log" > "$WORK/log.sorted"
n=$(wc -l < "$WORK/log.sorted")
[ "$(head -n1 "$WORK/log.sorted")" = 1 ] || fail "log does not start at 1"
[ "$n" = "$(tail -n1 "$WORK/log.sorted")" ] || fail "log has gaps: $n distinct lines up to $(tail -n1 "$WORK/log.sorted")"
say "log continuous: $n lines, counter at $last"
say ok
