#include <doctest/doctest.h>
#include <signal.h>

#include "daemon/requests.hpp"

using namespace hw::sysmgr;
using kind = signal_meaning::kind;

TEST_CASE("the real-time signals map to the targets of the table (glibc SIGRTMIN)") {
    CHECK(SIGRTMIN == 34);
    struct row {
        int offset;
        target t;
    };
    for (auto [offset, t] : {row{0, target::normal}, row{1, target::rescue},
                             row{2, target::emergency}, row{3, target::halt},
                             row{4, target::poweroff}, row{5, target::reboot},
                             row{6, target::kexec}, row{10, target::sysinit}}) {
        auto m = classify_signal(SIGRTMIN + offset, false);
        CHECK(m.what == kind::start_target);
        CHECK(m.start == t);
    }
}

TEST_CASE("SIGRTMIN+13/+14/+15/+16 are the forced final halt, poweroff, reboot and kexec") {
    CHECK(classify_signal(SIGRTMIN + 13, false).final == final_action::halt);
    CHECK(classify_signal(SIGRTMIN + 14, false).final == final_action::poweroff);
    CHECK(classify_signal(SIGRTMIN + 15, true).final == final_action::reboot);
    CHECK(classify_signal(SIGRTMIN + 16, true).final == final_action::kexec);
    CHECK(classify_signal(SIGRTMIN + 16, false).what == kind::final);
    CHECK(final_action_name(final_action::kexec) == "kexec");
    CHECK(classify_signal(SIGRTMIN + 14, false).what == kind::final);
}

TEST_CASE("Ctrl-Alt-Del reboots, SIGPWR powers off, SIGTERM powers off in a container and re-executes elsewhere") {
    CHECK(classify_signal(SIGINT, false).start == target::reboot);
    CHECK(classify_signal(SIGPWR, false).start == target::poweroff);
    CHECK(classify_signal(SIGTERM, false).what == kind::reexec);
    CHECK(classify_signal(SIGRTMIN + 25, false).what == kind::reexec);
    CHECK(classify_signal(SIGRTMIN + 25, true).what == kind::reexec);
    CHECK(classify_signal(SIGTERM, true).what == kind::start_target);
    CHECK(classify_signal(SIGTERM, true).start == target::poweroff);
}

TEST_CASE("an exit status rides only on a queued poweroff signal, and only 0-255") {
    CHECK(requested_exit_status(SIGRTMIN + 4, SI_QUEUE, 3) == 3);
    CHECK(requested_exit_status(SIGRTMIN + 14, SI_QUEUE, 0) == 0);
    CHECK(requested_exit_status(SIGRTMIN + 14, SI_QUEUE, 255) == 255);
    CHECK(!requested_exit_status(SIGRTMIN + 4, SI_USER, 3));  // kill() carries no value
    CHECK(!requested_exit_status(SIGRTMIN + 5, SI_QUEUE, 3));  // reboot carries none
    CHECK(!requested_exit_status(SIGTERM, SI_QUEUE, 3));
    CHECK(!requested_exit_status(SIGRTMIN + 4, SI_QUEUE, 256));
    CHECK(!requested_exit_status(SIGRTMIN + 4, SI_QUEUE, -1));
}

TEST_CASE("a container ends with the requested status, else 0 for a stop and 129 for a restart") {
    CHECK(container_exit_status(final_action::poweroff, std::nullopt) == 0);
    CHECK(container_exit_status(final_action::halt, std::nullopt) == 0);
    CHECK(container_exit_status(final_action::reboot, std::nullopt) == 129);
    CHECK(container_exit_status(final_action::kexec, std::nullopt) == 129);
    CHECK(container_exit_status(final_action::poweroff, 7) == 7);
    CHECK(container_exit_status(final_action::reboot, 0) == 0);
}

TEST_CASE("each shutdown target ends in its final action; the others in none") {
    CHECK(final_action_of(target::halt) == final_action::halt);
    CHECK(final_action_of(target::poweroff) == final_action::poweroff);
    CHECK(final_action_of(target::reboot) == final_action::reboot);
    CHECK(final_action_of(target::kexec) == final_action::kexec);
    for (target t : {target::init, target::sysinit, target::normal, target::rescue,
                     target::emergency}) {
        CHECK(!final_action_of(t));
    }
}

TEST_CASE("unlisted signals are ignored and SIGCHLD means reap") {
    CHECK(classify_signal(SIGHUP, false).what == kind::ignore);
    CHECK(classify_signal(SIGRTMIN + 7, false).what == kind::ignore);
    CHECK(classify_signal(SIGRTMIN + 17, false).what == kind::ignore);
    CHECK(classify_signal(SIGCHLD, false).what == kind::reap);
}

TEST_CASE("sysinit is served before normal whatever order they were asked in") {
    job_board b;
    b.request(target::normal);
    b.request(target::sysinit);
    CHECK(b.take_next(channel::regular) == target::sysinit);
    CHECK(!b.take_next(channel::regular));  // one job at a time
    b.finished(channel::regular);
    CHECK(b.take_next(channel::regular) == target::normal);
}

TEST_CASE("emergency runs on its own channel while a regular job is busy") {
    job_board b;
    b.request(target::rescue);
    CHECK(b.take_next(channel::regular) == target::rescue);
    b.request(target::emergency);
    CHECK(!b.take_next(channel::regular));
    CHECK(b.take_next(channel::emergency) == target::emergency);
    CHECK(!b.idle());
}

TEST_CASE("a shutdown request drops pending boot jobs and asks to cut the running one short") {
    job_board b;
    b.request(target::sysinit);
    CHECK(b.take_next(channel::regular) == target::sysinit);
    b.request(target::normal);
    CHECK(b.request(target::poweroff));  // sysinit is running: cut it short
    b.finished(channel::regular);
    CHECK(b.take_next(channel::regular) == target::poweroff);
    b.finished(channel::regular);
    CHECK(!b.take_next(channel::regular));  // normal was dropped
}

TEST_CASE("a shutdown request does not cut short another shutdown job") {
    job_board b;
    b.request(target::halt);
    CHECK(b.take_next(channel::regular) == target::halt);
    CHECK(!b.request(target::reboot));
}

TEST_CASE("kexec is a shutdown target: it drops pending boot jobs and cuts the running one short") {
    CHECK(is_shutdown_target(target::kexec));
    CHECK(target_name(target::kexec) == "kexec");
    job_board b;
    b.request(target::normal);
    CHECK(b.take_next(channel::regular) == target::normal);
    b.request(target::rescue);
    CHECK(b.request(target::kexec));
    b.finished(channel::regular);
    CHECK(b.take_next(channel::regular) == target::kexec);
    b.finished(channel::regular);
    CHECK(!b.take_next(channel::regular));  // rescue was dropped
}
