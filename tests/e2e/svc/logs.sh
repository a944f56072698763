# log links: output goes through a pipe service-manager keeps, so restarting the logger or the
# producer loses nothing; unplumbed output goes to the system log.
. "$E2E_DIR/lib.sh"
command -v python3 >/dev/null || { say "no python3 for the test logger; skipping"; exit 77; }
mkservice logger "$LOGGER $WORK/log" notification-fd=3
mkservice producer "i=\$(cat $WORK/counter 2>/dev/null || echo 0)
while :; do i=\$((i + 1)); echo \$i; echo \$i > $WORK/counter; sleep 0.002; done"
ln -s ../logger "$B/producer/log"
# The producer is loaded first: the plumbing is made when the logger arrives.
load producer
load logger
$SMCTL start logger producer
wait_state ready 5000 logger producer
for round in 1 2 3; do
    sleep 0.2
    $SMCTL stop logger               # the producer keeps writing into the pipe meanwhile
    wait_state stopped 5000 logger
    sleep 0.1
    $SMCTL start logger
    wait_state ready 5000 logger
    sleep 0.1
    kill "$(field producer pid)"     # restarted by the policy, continues its count
done
# Enough lines to mean something, however slowly the producer got to write them.
counted() { [ "$(cat "$WORK/counter" 2>/dev/null || echo 0)" -ge 40 ] 2>/dev/null; }
eventually 30 counted || fail "the producer wrote only $(cat "$WORK/counter") lines in 30 s"
$SMCTL stop producer
wait_state stopped 5000 producer
# The logger writes out what is left in the pipe: up to the counter's last number (which may
# be one behind the pipe, or empty if the producer was stopped while writing it).
last=$(cat "$WORK/counter" 2>/dev/null)
written() { [ "$(tail -n1 "$WORK/log" 2>/dev/null || echo 0)" -ge "${last:-0}" ] 2>/dev/null; }
eventually 10 written || fail "the log ends at $(tail -n1 "$WORK/log"), the counter at $last"
sort -n -u "$WORK/log" > "$WORK/sorted"
n=$(wc -l < "$WORK/sorted")
[ "$(head -n1 "$WORK/sorted")" = 1 ] && [ "$n" = "$(tail -n1 "$WORK/sorted")" ] ||
    fail "gaps in the log: $n distinct numbers up to $(tail -n1 "$WORK/sorted")"
[ "$n" -ge 40 ] || fail "only $n lines logged"
say "log continuous across 3 logger and 3 producer restarts: $n lines"
say ok
