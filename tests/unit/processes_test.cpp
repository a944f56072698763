#include "daemon/system_manager/processes.hpp"

#include <doctest/doctest.h>
#include <sys/reboot.h>

#include <cerrno>
#include <string>

using namespace hw::sysmgr;

TEST_CASE("each final action has its reboot(2) command, kexec included") {
    CHECK(reboot_command(final_action::halt) == RB_HALT_SYSTEM);
    CHECK(reboot_command(final_action::poweroff) == RB_POWER_OFF);
    CHECK(reboot_command(final_action::reboot) == RB_AUTOBOOT);
    CHECK(reboot_command(final_action::kexec) == RB_KEXEC);
}

TEST_CASE("a refused kexec is explained: a PID namespace, no kernel loaded, no privilege") {
    auto in_container = describe_kexec_failure(EINVAL, true, std::nullopt);
    CHECK(in_container.starts_with("Invalid argument"));
    CHECK(in_container.find("PID namespace") != std::string::npos);
    auto nothing_loaded = describe_kexec_failure(EINVAL, false, false);
    CHECK(nothing_loaded.find("no kernel is loaded") != std::string::npos);
    CHECK(describe_kexec_failure(EPERM, false, true).find("CAP_SYS_BOOT") != std::string::npos);
    // A loaded kernel and EINVAL: no guess beyond the error itself.
    CHECK(describe_kexec_failure(EINVAL, false, true) == "Invalid argument");
    CHECK(describe_kexec_failure(ENOMEM, false, true) == "Cannot allocate memory");
}

// fuzz/corpus/mounts/crash-*: the mount points were taken as the kernel escapes them, so at
// the final stop PID 1 called umount2("/media/My\040Disk"), which does not exist, and left
// the filesystem mounted read-write.
TEST_CASE("mount points are read with the kernel's escapes decoded") {
    auto m = parse_mounts(
        "/dev/sda1 / ext4 rw 0 0\n"
        "/dev/sdb1 /media/My\\040Disk vfat rw 0 0\n"
        "/dev/sdb2 /mnt/a\\011b\\012c\\134d ext4 rw 0 0\n"
        "/dev/sdb3 /mnt/\\101\\04 ext4 rw 0 0\n"
        "too short\n");
    REQUIRE(m.size() == 4);
    CHECK(m[0].target == "/");
    CHECK(m[1].target == "/media/My Disk");
    CHECK(m[1].type == "vfat");
    CHECK(m[2].target == "/mnt/a\tb\nc\\d");
    CHECK(m[3].target == "/mnt/\\101\\04");  // nothing else is an escape
}
