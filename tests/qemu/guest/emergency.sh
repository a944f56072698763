#!/bin/sh
# Booted with -b: emergency is up with its shell, and neither sysinit nor the getty ran.
. /usr/lib/heartwood-test/lib.sh
hw_check "emergency is up" hw_up emergency
hw_check "emergency-shell is up" hw_up emergency-shell
hw_check "sysinit was not started" sh -c '! system-control is-active sysinit'
hw_check "console-getty was not started" sh -c '! system-control is-active console-getty'
sleep 1
hw_done poweroff
