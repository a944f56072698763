#!/bin/sh
# `kill -9 -1` kills every process but PID 1 and this shell (hw-test's main process):
# service-manager, the logger, every service. Every service that was up must come back within
# 60 s: a new process for each one that had one, except this shell, which the new
# service-manager re-adopts (same pid, still ready); a failed service stays failed.
. /usr/lib/heartwood-test/lib.sh
# A stable picture first: hw-crash is done crash-looping.
hw_check "hw-crash is failed before" hw_wait_state hw-crash failed 30
system-control list | sed 's/\x1b\[[0-9;]*m//g' >/tmp/before
up=$(awk '$2 == "ready" || $2 == "running" {print $1}' /tmp/before)
with_pid=$(sed -n 's/^\([^ ]*\) .*(pid \([0-9]*\))$/\1=\2/p' /tmp/before)
echo "HW-INFO: up before: $(echo $up)"
echo "HW-INFO: processes before: $(echo $with_pid)"
hw_check "hw-test's main process is this shell" [ "$(hw_show hw-test MainPID)" = $$ ]
logger_before=$(hw_main_pid system-logger)
echo "HW-MARK: kill -9 -1 at uptime $(hw_uptime)"
kill -9 -1
for s in $up; do
    hw_check "$s is up again" hw_wait_up "$s" 60
done
for kv in $with_pid; do
    s=${kv%%=*} old=${kv#*=}
    new=$(hw_show "$s" MainPID)
    if [ "$s" = hw-test ]; then
        hw_check "hw-test (this shell) was re-adopted, not restarted ($old -> $new)" [ "$new" = "$old" ]
    else
        fresh() { [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != "$old" ] && kill -0 "$new"; }
        hw_check "$s runs a new process ($old -> $new)" fresh
    fi
done
hw_check "hw-crash is still failed" [ "$(hw_show hw-crash State)" = failed ]
manager_runs() { hw_main_pid service-manager >/dev/null; }
hw_check "service-manager runs again" manager_runs
logger_new() { l=$(hw_main_pid system-logger) && [ "$l" != "$logger_before" ]; }
hw_check "the system logger runs again ($logger_before -> $(hw_main_pid system-logger))" logger_new
echo "HW-MARK: recovered at uptime $(hw_uptime)"
hw_done poweroff
