#!/bin/sh
# `kill -9 -1` kills every process but PID 1 and this shell: service-manager, the logger, every
# service. Every service must come back (with a new process) within 60 s.
. /usr/lib/heartwood-test/lib.sh
services="hw-daemon console-getty"
for s in $services; do hw_check "$s is up before" hw_up "$s"; done
old_sleep=$(hw_main_pid sleep)
echo "HW-MARK: kill -9 -1 at uptime $(hw_uptime)"
kill -9 -1
for s in $services normal; do
    hw_check "$s is up again" hw_wait_up "$s" 60
done
new_sleep=$(hw_main_pid sleep)
new_process() { [ -n "$new_sleep" ] && [ "$new_sleep" != "$old_sleep" ]; }
hw_check "hw-daemon runs a new process ($old_sleep -> $new_sleep)" new_process
manager_runs() { hw_main_pid service-manager >/dev/null; }
hw_check "service-manager runs again" manager_runs
echo "HW-MARK: recovered at uptime $(hw_uptime)"
hw_done poweroff
