#include "daemon/service_manager/state_file.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <ostream>

#include "daemon/service_manager/procfs.hpp"

using namespace hw::svc;

namespace {
saved_service sample() {
    saved_service s;
    s.name = "cyclog@sshd";
    s.bundle_dir = "/etc/service-bundles/services/cyclog@sshd";
    auto& m = s.machine;
    m.ph = phase::killing;
    m.want_up = true;
    m.ready = false;
    m.current = program::run;
    m.main_gone = false;
    m.after_kill = intent::decide;
    m.killed = kill_stage::term_sent;
    m.deadline = mono_time(123456789);
    m.since = mono_time(42);
    m.run_started = mono_time(40);
    m.restart_count = 3;
    m.last_run_status = 0x0b;
    m.records[1] = {true, 0x100, mono_time(41)};
    s.pid = 4242;
    s.pid_start = 987654;
    s.pgid = 4242;
    s.paused = true;
    s.plumb_to = "logger";
    s.input = true;
    s.ready_pipe = true;
    s.status_text = "line one\nline two";
    return s;
}
}  // namespace

TEST_CASE("a saved service reads back equal, with newlines in STATUS= flattened") {
    auto s = sample();
    auto back = parse_saved(serialize(s));
    REQUIRE(back);
    CHECK(back->status_text == "line one line two");
    s.status_text = back->status_text;
    CHECK(*back == s);
}

TEST_CASE("a state file of another format or with a bad value is refused") {
    CHECK(!parse_saved("something else\nname x\n"));
    auto text = serialize(sample());
    auto bad = text;
    bad.replace(bad.find("phase killing"), 13, "phase dancing");
    CHECK(!parse_saved(bad));
    bad = text;
    bad.replace(bad.find("want_up 1"), 9, "want_up 7");
    CHECK(!parse_saved(bad));
    CHECK(parse_saved(text + "future_key whatever\n"));  // unknown keys are for later versions
}

// fuzz/corpus/state_file/crash-*: a CR in status_text was read as is but written as a space,
// so what was read did not survive the next write; "run_started -9223372036854775808" made
// the restored machine's restart policy overflow (now - run_started, undefined behaviour);
// record lines went through sscanf, which took trailing junk and overflowed silently.
TEST_CASE("a state file reads back as it would be written, with every time on the clock") {
    auto text = serialize(sample());
    auto with = [&text](std::string_view from, std::string_view to) {
        std::string changed = text;
        changed.replace(changed.find(from), from.size(), to);
        return changed;
    };
    auto cr = parse_saved(with("status_text line one line two", "status_text a\rb"));
    REQUIRE(cr);
    CHECK(cr->status_text == "a b");
    CHECK(parse_saved(serialize(*cr)) == cr);
    for (auto key : {"since ", "run_started ", "deadline "}) {
        auto line = text.substr(text.find(key), text.find('\n', text.find(key)) - text.find(key));
        CHECK_MESSAGE(!parse_saved(with(line, std::string(key) + "-1")), std::string(key));
        CHECK_MESSAGE(!parse_saved(with(line, std::string(key) + "4611686018427387905")), std::string(key));
        CHECK_MESSAGE(parse_saved(with(line, std::string(key) + "4611686018427387904")), std::string(key));
    }
    auto record = text.substr(text.find("record 1 "), text.find('\n', text.find("record 1 ")) -
                                                           text.find("record 1 "));
    for (auto bad : {"record 1 1 0 5 junk", "record 1 2 0 5", "record 1 1 99999999999 5",
                     "record 4 1 0 5", "record 1 1 0 -5", "record 1 1 0"})
        CHECK_MESSAGE(!parse_saved(with(record, bad)), std::string(bad));
    CHECK(parse_saved(with(record, "record 1 1 -1 5")));
}

TEST_CASE("state files are written atomically and read back from their directory") {
    char tmpl[] = "/tmp/hw-state-test.XXXXXX";
    std::string dir = ::mkdtemp(tmpl);
    auto s = sample();
    s.status_text = "ok";
    REQUIRE(write_saved(dir, s));
    auto all = read_all_saved(dir);
    REQUIRE(all.size() == 1);
    CHECK(all[0] == s);
    remove_saved(dir, s.name);
    CHECK(read_all_saved(dir).empty());
    ::rmdir(dir.c_str());
}

TEST_CASE("/proc/PID/stat is parsed even with spaces and parentheses in the name") {
    std::string text =
        "123 (a (b) c) S 1 123 123 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 777 1000 10 "
        "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 256";
    auto st = parse_proc_stat(text);
    REQUIRE(st);
    CHECK(st->state == 'S');
    CHECK(st->ppid == 1);
    CHECK(st->pgrp == 123);
    CHECK(st->start_time == 777);
    CHECK(st->exit_code == 256);
    auto self = read_proc_stat(::getpid());
    REQUIRE(self);
    CHECK(self->ppid == ::getppid());
    CHECK(self->start_time > 0);
}
