#!/bin/sh
# Booted with -b: emergency is up with its shell, and neither sysinit nor the getty ran.
# The shell is sulogin waiting at its prompt on the console (the host side checks the prompt),
# not a crash loop: it keeps its first process.
. /usr/lib/heartwood-test/lib.sh
hw_check "emergency is up" hw_up emergency
hw_check "emergency-shell is up" hw_up emergency-shell
hw_check "sysinit was not started" sh -c '! system-control is-active sysinit >/dev/null'
hw_check "console-getty was not started" sh -c '! system-control is-active console-getty >/dev/null'
hw_check "sulogin waits at its prompt on the console" hw_wait_prompt sulogin 30
pid=$(hw_show emergency-shell MainPID)
hw_check "emergency-shell runs sulogin (pid $pid: $(hw_comm "$pid"))" [ "$(hw_comm "$pid")" = sulogin ]
hw_check "emergency-shell was never restarted" [ "$(hw_show emergency-shell Restarts)" = 0 ]
hw_done poweroff
