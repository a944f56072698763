#!/bin/sh
# PID 1 (the kernel's init) re-executes itself twice, once asked by `system-control reexec`
# (SIGRTMIN+25) and once by SIGTERM (a real machine's meaning of it): the logger, the
# service-manager and every service keep their processes, and the poweroff at the end is
# orderly.
. /usr/lib/heartwood-test/lib.sh
hw_check "hw-crash is failed before" hw_wait_state hw-crash failed 30
system-control list | sed 's/\x1b\[[0-9;]*m//g' >/tmp/before
logger=$(hw_main_pid system-logger)
manager=$(hw_main_pid service-manager)
takeovers() { cat /run/system-manager/log/current /var/log/system-manager/current 2>/dev/null |
              grep -c 're-executed: took over'; }
wait_takeovers() { # wait_takeovers N: up to 20 s
    i=0
    while [ "$(takeovers)" -lt "$1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
    [ "$(takeovers)" -ge "$1" ]
}
hw_check "system-control reexec is sent" system-control reexec
hw_check "PID 1 took over after system-control reexec" wait_takeovers 1
kill -TERM 1
hw_check "PID 1 took over after SIGTERM" wait_takeovers 2
hw_check "PID 1 is still system-manager" [ "$(hw_comm 1)" = system-manager ]
hw_check "the logger kept its process" [ "$(hw_main_pid system-logger)" = "$logger" ]
hw_check "the service-manager kept its process" [ "$(hw_main_pid service-manager)" = "$manager" ]
system-control list | sed 's/\x1b\[[0-9;]*m//g' >/tmp/after
hw_check "every service kept its state and process" cmp -s /tmp/before /tmp/after
hw_done poweroff
