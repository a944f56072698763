#!/bin/sh
# Normal boot: the normal target and its services are up, the crash-looping hw-crash did not
# hold it back, the early services did their work; then `system-control poweroff`.
. /usr/lib/heartwood-test/lib.sh
for s in normal multi-user basic sysinit local-fs console-getty hostname loopback hw-daemon; do
    hw_check "$s is up" hw_up "$s"
done
hw_check "the host name is set from /etc/hostname" [ "$(cat /proc/sys/kernel/hostname)" = heartwood-test ]
lo_up() { [ $(($(cat /sys/class/net/lo/flags) & 1)) = 1 ]; } # IFF_UP
hw_check "lo is up" lo_up
hw_check "/tmp is mounted from fstab" grep -q ' /tmp tmpfs ' /proc/self/mounts
# hw-crash exits 3 at once, every time: the built-in policy restarts it (0.2 s doubling delays)
# until its restart-limit (4), then leaves it failed; normal stays reached all along.
hw_check "hw-crash ends failed after its restart limit" hw_wait_state hw-crash failed 30
restarts=$(hw_show hw-crash Restarts)
hw_check "hw-crash was restarted 4 times, its limit ($restarts)" [ "$restarts" = 4 ]
hw_check "hw-crash's last exit is its own (exited 3)" [ "$(hw_show hw-crash LastExit)" = "exited 3" ]
hw_check "normal is still up" hw_up normal
hw_check "multi-user (ordered after hw-crash) is still up" hw_up multi-user
# hw-limited's cgroup/ settings are in its cgroup, and its pids.max held back its 10 children.
cg=/sys/fs/cgroup/services/hw-limited
hw_check "hw-limited is up" hw_wait_up hw-limited 10
forked() { [ -e /run/hw-limited.forked ]; }
for _ in $(seq 50); do forked && break; sleep 0.2; done
hw_check "hw-limited tried its 10 children" forked
hw_check "memory.max is hw-limited's 64M ($(cat $cg/memory.max))" [ "$(cat $cg/memory.max)" = 67108864 ]
hw_check "pids.max is hw-limited's 6 ($(cat $cg/pids.max))" [ "$(cat $cg/pids.max)" = 6 ]
procs=$(wc -l <$cg/cgroup.procs)
within_limit() { [ "$procs" -ge 2 ] && [ "$procs" -le 6 ]; }
hw_check "hw-limited runs some children, and at most 6 processes ($procs)" within_limit
refused=$(sed -n 's/^max //p' $cg/pids.events)
hw_check "the kernel refused hw-limited's forks past the limit ($refused)" [ "${refused:-0}" -ge 1 ]
usage=$(system-control status hw-limited | sed -n 's/^  cgroup: *//p')
usage_shown() { echo "$usage" | grep -q "^/services/hw-limited: memory [0-9.]*M, tasks $procs, cpu "; }
hw_check "status shows hw-limited's cgroup usage ($usage)" usage_shown
# The kernel gives init 4096 descriptors; PID 1 raises that for the fd store and the manager.
nofile() { awk '/^Max open files/ {print $4 " " $5}' "/proc/$1/limits"; }
hw_check "PID 1 may open 65536 descriptors ($(nofile 1))" [ "$(nofile 1)" = "65536 65536" ]
hw_check "sd_notify senders do not block at 10 waiting datagrams" \
    [ "$(cat /proc/sys/net/unix/max_dgram_qlen)" -ge 512 ]
rss() { sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$1/status"; }
echo "HW-INFO: PID 1 ($(hw_comm 1)) VmRSS $(rss 1)"
sm=$(hw_main_pid service-manager) && echo "HW-INFO: service-manager VmRSS $(rss "$sm")"
hw_check "a getty waits at its prompt on the console" hw_wait_prompt '*getty' 30
hw_done "${HW_END:-poweroff}"
