#!/bin/sh
# `system-control reboot` ends the machine with a reboot (qemu runs with -no-reboot).
. /usr/lib/heartwood-test/lib.sh
hw_check "normal is up" hw_up normal
hw_done reboot
