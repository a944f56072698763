#!/bin/sh
# Debian 12 minbase root (tests/qemu/debian.sh): heartwood's units with Debian's own programs
# (dash, util-linux agetty/mount/swapon/fsck, e2fsck, systemd-udevd, iproute2, login). Runs under
# Debian's /bin/sh (dash). The host logs in on the serial console (agetty + login) and leaves a
# file for us to find; then poweroff.
. /usr/lib/heartwood-test/lib.sh
mounted() { # mounted DEV MOUNTPOINT TYPE OPTION
    while read -r d m t o _; do
        case $d in /dev/*) d=$(readlink -f "$d") ;; esac
        [ "$d $m $t" = "$1 $2 $3" ] && case ,$o, in *,$4,*) return 0 ;; esac
    done </proc/self/mounts
    return 1
}
hw_check "this is Debian 12 (/etc/debian_version $(cat /etc/debian_version))" grep -q '^12' /etc/debian_version
hw_check "/bin/sh is dash" sh -c '[ "$(readlink -f /bin/sh)" = /usr/bin/dash ]'
for s in sysinit udev udev-trigger remount-root kernel-modules hostname loopback random-seed \
    fsck@srv mount@srv swap@dev-disk-by-label-hwswap local-fs swap basic multi-user \
    console-getty normal; do
    hw_check "$s is up" hw_up "$s"
done
udevd=$(hw_show udev MainPID)
hw_check "udev runs Debian's systemd-udevd (pid $udevd: $(hw_comm "$udevd"))" \
    [ "$(hw_comm "$udevd")" = systemd-udevd ]
hw_check "udev made /dev/disk/by-label/hwdata -> vdb" [ "$(readlink -f /dev/disk/by-label/hwdata)" = /dev/vdb ]
hw_check "udevadm knows /dev/vdb's filesystem" sh -c 'udevadm info /dev/vdb | grep -q ID_FS_LABEL=hwdata'
getty=$(hw_show console-getty MainPID)
hw_check "console-getty runs util-linux agetty (pid $getty: $(hw_comm "$getty"))" \
    [ "$(hw_comm "$getty")" = agetty ]
[ "$(hw_comm "$getty")" = agetty ] || system-control show console-getty
hw_check "/ is /dev/vda, ext4, read-write" mounted /dev/vda / ext4 rw
hw_check "/srv is /dev/vdb (by label), ext4, read-write" mounted /dev/vdb /srv ext4 rw
hw_check "/tmp is the fstab's tmpfs" mounted tmpfs /tmp tmpfs rw
hw_check "the swap area on /dev/vdc is active" grep -q '^/dev/vdc ' /proc/swaps
hw_check "the host name is /etc/hostname's (hostname: $(hostname))" [ "$(hostname)" = heartwood-debian ]
hw_check "runtime-files is up" hw_up runtime-files
hw_check "/var/lock leads to a sticky, world-writable /run/lock" \
    sh -c '[ -d /var/lock ] && [ "$(stat -c %a "$(readlink -f /var/lock)")" = 1777 ]'
hw_check "/run/utmp exists, 0664 root:utmp" sh -c '[ "$(stat -c "%a %U:%G" /run/utmp)" = "664 root:utmp" ]'
hw_check "lo is up" sh -c 'ip -o link show lo | grep -q "<LOOPBACK,UP"'
log=$(cat /run/system-manager/log/current /var/log/system-manager/current 2>/dev/null)
hw_check "remount-root ran Debian's e2fsck on the read-only root" \
    sh -c 'echo "$1" | grep -q "heartwood-root: clean,"' _ "$log"
hw_check "fsck@srv ran e2fsck on the data disk" sh -c 'echo "$1" | grep -q "hwdata: clean,"' _ "$log"
hw_check "no service failed but hw-crash (which crash-loops on purpose)" \
    sh -c '! system-control list -a 2>&1 | grep -w failed | grep -v hw-crash'
# Now the host logs in as root at agetty's prompt (qemu-run --send: after the prompt, at the
# next of these lines on the console; agetty flushes what was typed before it got the line, and
# "ready" is not "prompt printed", so say it until agetty has exec'd login); the login shell
# writes /run/hw-login.
n=0
while [ "$(hw_comm "$getty")" = agetty ] && [ $n -lt 60 ]; do
    echo "HW-LOGIN-NOW" >/dev/console
    sleep 1
    n=$((n + 1))
done
n=0
while [ ! -s /run/hw-login ] && [ $n -lt 300 ]; do sleep 0.2; n=$((n + 1)); done
hw_check "root logged in on the serial console through agetty and login ($(cat /run/hw-login 2>/dev/null))" \
    grep -q '^hw-login-ok /dev/ttyS0 ' /run/hw-login
hw_check "who showed root on ttyS0 during the login (utmp): $(cat /run/hw-who 2>/dev/null)" \
    grep -q '^root  *ttyS0 ' /run/hw-who
marker=$(cat /proc/sys/kernel/random/boot_id)
hw_check "a marker can be written on /srv" sh -c "echo $marker >/srv/hw-marker"
hw_check "a marker can be written on /" sh -c "echo $marker >/root/hw-marker"
echo "HW-INFO: marker $marker"
hw_done poweroff
