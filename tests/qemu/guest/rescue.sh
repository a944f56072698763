#!/bin/sh
# Booted with -s: rescue is up with its shell, after sysinit; the getty is not running.
. /usr/lib/heartwood-test/lib.sh
hw_check "rescue is up" hw_up rescue
hw_check "rescue-shell is up" hw_up rescue-shell
hw_check "sysinit is up" hw_up sysinit
hw_check "normal was not started" sh -c '! system-control is-active normal'
hw_check "console-getty was not started" sh -c '! system-control is-active console-getty'
sleep 1
hw_done poweroff
