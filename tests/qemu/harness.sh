#!/bin/bash
# The harness itself, with tools/stand-in-init as PID 1 (no heartwood program involved): every
# outcome is classified right, an appended guest script runs, init arguments reach PID 1.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
require_qemu
dir=$(mktemp -d "${TMPDIR:-/tmp}/hw-harness.XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$tools/mkimage" -o "$dir/standin.cpio" --init stand-in --modules "$HW_KERNEL_DIR/modules" 2>/dev/null ||
    die "cannot build the stand-in image"
status=0
run() { # run EXPECTED [qemu-run args...]
    local expect=$1 out; shift
    out=$("$tools/qemu-run" -i "$dir/standin.cpio" -t 30 -d "$dir/logs" "$@")
    local got=$(sed -n 's/^outcome=//p' <<<"$out")
    echo "hw.end $expect: outcome=$got $(grep -E '^(wall|boot_time)=' <<<"$out" | tr '\n' ' ')"
    [[ $got == "$expect" ]] || { echo "FAIL: expected $expect"; status=1; }
}
run poweroff --cmd 'echo "guest says $(uname -r)"' -- -s single
grep -aq 'guest says 6\.' "$dir/logs/test.log" || { echo "FAIL: the appended script did not run"; status=1; }
grep -aq 'stand-in-init pid 1 argv \[-s single\]' "$dir/logs/console.log" ||
    { echo "FAIL: init arguments did not reach PID 1"; status=1; }
# One qemu at a time here: meson already runs two tests at once on two cores.
run reboot -a hw.end=reboot
run halt -a hw.end=halt
run panic -a hw.end=panic
exit $status
