# Sourced by tests/qemu/*.sh (bash). Environment from meson: HW_SOURCE_DIR, HW_BUILD_DIR.
# Tests that cannot run here exit 77 (skip) with a message saying what is missing.
set -uo pipefail
src=${HW_SOURCE_DIR:?} build=${HW_BUILD_DIR:?}
tools=$src/tools
skip() { echo "SKIP: $*"; exit 77; }
die() { echo "FAIL: $*"; exit 1; }

require_qemu() {
    command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (run tools/ci-setup)"
    command -v cpio >/dev/null || [ -x /bin/busybox ] || skip "no cpio (run tools/ci-setup)"
    [ -x /bin/busybox ] || skip "busybox-static is not installed (run tools/ci-setup)"
    kdir=$("$tools/fetch-kernel" --offline 2>/dev/null) ||
        skip "no cached kernel (run tools/ci-setup, which runs tools/fetch-kernel)"
    export HW_KERNEL_DIR=$kdir
}

# The programs a real boot needs, as `meson install` would install them.
require_heartwood() {
    local missing=() p installed
    installed=$(meson introspect --installed "$build" 2>/dev/null) || die "cannot introspect $build"
    for p in system-manager service-manager system-control; do
        grep -q "\"/usr/sbin/$p\"" <<<"$installed" || missing+=("$p")
    done
    ((${#missing[@]} == 0)) ||
        skip "this build installs no ${missing[*]} (not written yet on this branch): a real boot needs them"
}

# build_image [NAME [MKIMAGE-ARGS...]]: builds (once per change, shared by the tests of a run
# under a lock) a test image: the build's install + units + tests/qemu/overlay, /init =
# system-manager, plus MKIMAGE-ARGS (e.g. --fstab none). Sets $image. With --disk (a path under
# $build/qemu-image), $image is the boot initramfs of that disk root.
build_image() {
    local name=${1:-initrd} dir=$build/qemu-image a missing=false
    (($#)) && shift
    mkdir -p "$dir"
    image=$dir/$name.cpio
    for a in "$@"; do
        [[ $a == "$dir"/*.img && ! -f $a ]] && missing=true
    done
    exec 8>"$dir/lock"
    flock 8
    if $missing || [[ ! -f $image ]] || [[ -n $(find "$src/units" "$src/tests/qemu/overlay" "$src/tools/mkimage" \
        "$src/tools/fstab-bundles" "$src/tests/qemu/disk" "$build" -newer "$image" -type f \
        \( -path "$src/*" -o -perm -u+x \) \
        ! -path "$dir/*" -print -quit 2>/dev/null) ]]; then
        "$tools/mkimage" -o "$image" -B "$build" --init heartwood --overlay "$src/tests/qemu/overlay" \
            --modules "$HW_KERNEL_DIR/modules" "$@" >&2 || die "cannot build the test image"
    fi
    flock -u 8
}

# boot NAME GUEST-SCRIPT EXPECTED-OUTCOME [-- INIT-ARGS]: boots the test image with the guest
# script, prints the harness's summary, checks the outcome and every HW-TEST verdict.
boot() {
    local name=$1 script=$2 expect=$3; shift 3
    local logs=$build/qemu-logs/$name out
    rm -rf "$logs"
    out=$("$tools/qemu-run" -i "$image" -k "$HW_KERNEL_DIR/vmlinux" -d "$logs" -t "${HW_QEMU_TIMEOUT:-120}" \
        -a "HEARTWOOD_KILL_GRACE=3" --script "$script" "$@")
    echo "$out"
    grep -a 'HW-' "$logs/test.log" | sed 's/^/  guest: /'
    outcome=$(sed -n 's/^outcome=//p' <<<"$out")
    boot_time=$(sed -n 's/^boot_time=//p' <<<"$out")
    target=$(sed -n 's/^target=//p' <<<"$out")
    init_time=$(sed -n 's/^init_time=//p' <<<"$out")
    wall=$(sed -n 's/^wall=//p' <<<"$out")
    local ok=true
    if grep -aq 'HW-TEST: FAIL' "$logs/test.log"; then ok=false; fi
    grep -aq 'HW-TEST: END' "$logs/test.log" || { echo "the guest script did not finish"; ok=false; }
    [[ $outcome == "$expect" ]] || { echo "outcome $outcome, expected $expect"; ok=false; }
    if ! $ok; then
        echo "--- console (ttyS0), last 60 lines: $logs/console.log"
        tail -n 60 "$logs/console.log" | tr -d '\r'
        return 1
    fi
}

# Host-side checks after a boot: each prints PASS or FAIL; the test ends with `exit $status`.
status=0
check() { # check WHAT COMMAND...
    local what=$1; shift
    if "$@"; then echo "PASS: $what"; else echo "FAIL: $what"; status=1; fi
}

# make_disks ROOT_IMAGE: a fresh $disks (qemu-disks-$name) holding a copy of the root image as
# root.img, an empty ext4 data.img labelled hwdata and a swap.img labelled hwswap (32 MiB each).
make_disks() {
    disks=$build/qemu-disks-$name
    rm -rf "$disks"
    mkdir -p "$disks"
    cp --sparse=always "$1" "$disks/root.img"
    truncate -s 32M "$disks/data.img"
    mkfs.ext4 -q -F -L hwdata "$disks/data.img" || die "mkfs.ext4 of the data disk failed"
    truncate -s 32M "$disks/swap.img"
    mkswap -L hwswap "$disks/swap.img" >/dev/null 2>&1 || die "mkswap failed"
}

# After a disk boot: helpers on the images and on the system log read from them.
# check_disks_after_poweroff: root.img and data.img (make_disks) are clean, both hold the marker
# the guest printed (HW-INFO: marker), and $logs/system.log gets the system log from root.img.
check_disks_after_poweroff() {
    check "the root filesystem is clean after poweroff (e2fsck -fn, no journal recovery)" \
        clean "$disks/root.img"
    check "the /srv filesystem is clean after poweroff" clean "$disks/data.img"
    marker=$(sed -n 's/.*HW-INFO: marker //p' "$logs/test.log" | tr -d '\r')
    [[ -n $marker ]] || die "the guest printed no marker"
    check "the guest's marker is on /srv" \
        [ "$(debugfs -R 'cat /hw-marker' "$disks/data.img" 2>/dev/null)" = "$marker" ]
    check "the guest's marker is on /" \
        [ "$(debugfs -R 'cat /root/hw-marker' "$disks/root.img" 2>/dev/null)" = "$marker" ]
    debugfs -R 'cat /var/log/system-manager/current' "$disks/root.img" 2>/dev/null >"$logs/system.log"
}
clean() { # clean IMAGE: e2fsck finds nothing to do, the superblock says clean, no journal to replay
    local sb
    e2fsck -fn "$1" >"$1.fsck" 2>&1 || { cat "$1.fsck"; return 1; }
    sb=$(dumpe2fs -h "$1" 2>/dev/null)
    grep -q '^Filesystem state: *clean$' <<<"$sb" && ! grep -q needs_recovery <<<"$sb"
}
# in_order LINE...: each line (a fixed string) is in $logs/system.log, each after the one before.
in_order() {
    local last=0 n l
    for l in "$@"; do
        n=$(grep -nF -- "$l" "$logs/system.log" | tail -n1 | cut -d: -f1)
        [[ -n $n ]] || { echo "  not in the log: $l"; return 1; }
        ((n > last)) || { echo "  out of order: $l"; return 1; }
        last=$n
    done
}
