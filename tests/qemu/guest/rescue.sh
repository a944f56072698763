#!/bin/sh
# Booted with -s: rescue is up with its shell, after sysinit; the getty is not running.
# The shell is sulogin waiting at its prompt on the console (the host side checks the prompt),
# not a crash loop: it keeps its first process.
. /usr/lib/heartwood-test/lib.sh
hw_check "rescue is up" hw_up rescue
hw_check "rescue-shell is up" hw_up rescue-shell
hw_check "sysinit is up" hw_up sysinit
hw_check "normal was not started" sh -c '! system-control is-active normal >/dev/null'
hw_check "console-getty was not started" sh -c '! system-control is-active console-getty >/dev/null'
hw_check "sulogin waits at its prompt on the console" hw_wait_prompt sulogin 30
pid=$(hw_show rescue-shell MainPID)
hw_check "rescue-shell runs sulogin (pid $pid: $(hw_comm "$pid"))" [ "$(hw_comm "$pid")" = sulogin ]
hw_check "rescue-shell was never restarted" [ "$(hw_show rescue-shell Restarts)" = 0 ]
hw_done poweroff
