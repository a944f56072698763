#include "state_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

#include "common/log.hpp"
#include "common/text_file.hpp"
#include "common/unique_fd.hpp"

namespace hw::svc {

namespace {

constexpr std::string_view magic = "heartwood-service-state 1";

bool same_records(const machine_state& a, const machine_state& b) {
    for (int i = 0; i < 4; ++i) {
        const auto &x = a.records[i], &y = b.records[i];
        if (x.valid != y.valid || x.wait_status != y.wait_status || x.when != y.when) return false;
    }
    return true;
}

template <class T>
bool number(std::string_view v, T& out) {
    auto r = std::from_chars(v.data(), v.data() + v.size(), out);
    return r.ec == std::errc{} && r.ptr == v.data() + v.size();
}

bool flag(std::string_view v, bool& out) {
    if (v != "0" && v != "1") return false;
    out = v == "1";
    return true;
}

// STATUS= text as it is kept on one line of the file: line breaks become spaces. Applied when
// reading too, so that what is read is always what would be written.
std::string one_line(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

// Times are CLOCK_MONOTONIC readings of this boot (the files live in /run), from 0 to 2^62 ns
// (146 years): a successor subtracts them from its own clock (run time, wall time of a state
// change) and compares them with it, which an arbitrary 64-bit value would overflow.
constexpr std::int64_t max_nanos = std::int64_t{1} << 62;

bool nanos(std::string_view v, mono_time& out) {
    std::int64_t n;
    if (!number(v, n) || n < 0 || n > max_nanos) return false;
    out = mono_time(n);
    return true;
}

}  // namespace

bool saved_service::operator==(const saved_service& o) const {
    const auto &a = machine, &b = o.machine;
    return name == o.name && bundle_dir == o.bundle_dir && pid == o.pid &&
           pid_start == o.pid_start && pgid == o.pgid && paused == o.paused &&
           plumb_to == o.plumb_to && input == o.input && ready_pipe == o.ready_pipe &&
           status_text == o.status_text && a.ph == b.ph && a.want_up == b.want_up &&
           a.no_restart == b.no_restart && a.ready == b.ready && a.current == b.current &&
           a.main_gone == b.main_gone && a.after_kill == b.after_kill && a.killed == b.killed &&
           a.failing == b.failing && a.watchdog_armed == b.watchdog_armed &&
           a.self_stopping == b.self_stopping && a.deadline == b.deadline && a.since == b.since &&
           a.run_started == b.run_started && a.restart_count == b.restart_count &&
           a.last_run_status == b.last_run_status && same_records(a, b);
}

std::string serialize(const saved_service& s) {
    const auto& m = s.machine;
    static constexpr std::string_view intents[] = {"decide", "down", "fail"};
    static constexpr std::string_view kills[] = {"none", "term", "kill"};
    std::string text = fmt::format("{}\nname {}\nbundle {}\n", magic, s.name, s.bundle_dir);
    text += fmt::format("phase {}\nwant_up {:d}\nno_restart {:d}\nready {:d}\n", phase_name(m.ph),
                        m.want_up, m.no_restart, m.ready);
    text += fmt::format("current {}\nmain_gone {:d}\nafter_kill {}\nkilled {}\n",
                        m.current ? program_name(*m.current) : "-", m.main_gone,
                        intents[static_cast<int>(m.after_kill)], kills[static_cast<int>(m.killed)]);
    text += fmt::format("failing {:d}\nwatchdog_armed {:d}\nself_stopping {:d}\ndeadline {}\n",
                        m.failing, m.watchdog_armed, m.self_stopping,
                        m.deadline ? std::to_string(m.deadline->count()) : std::string("-"));
    text += fmt::format("since {}\nrun_started {}\nrestart_count {}\nlast_run_status {}\n",
                        m.since.count(), m.run_started.count(), m.restart_count, m.last_run_status);
    for (int i = 0; i < 4; ++i) {
        const auto& r = m.records[i];
        text += fmt::format("record {} {:d} {} {}\n", i, r.valid, r.wait_status, r.when.count());
    }
    text += fmt::format("pid {}\npid_start {}\npgid {}\npaused {:d}\nplumb_to {}\n", s.pid,
                        s.pid_start, s.pgid, s.paused, s.plumb_to.empty() ? "-" : s.plumb_to);
    text += fmt::format("input {:d}\nready_pipe {:d}\nstatus_text {}\n", s.input, s.ready_pipe,
                        one_line(s.status_text));
    return text;
}

std::optional<saved_service> parse_saved(std::string_view text) {
    if (text.substr(0, magic.size()) != magic) return std::nullopt;
    saved_service s;
    auto& m = s.machine;
    bool ok = true;
    while (!text.empty() && ok) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto sp = line.find(' ');
        if (sp == std::string_view::npos) continue;
        std::string_view key = line.substr(0, sp), v = line.substr(sp + 1);
        if (key == "name") {
            s.name = v;
        } else if (key == "bundle") {
            s.bundle_dir = v;
        } else if (key == "phase") {
            ok = false;
            for (int p = 0; p <= static_cast<int>(phase::stopping); ++p) {
                if (phase_name(static_cast<phase>(p)) == v) {
                    m.ph = static_cast<phase>(p);
                    ok = true;
                }
            }
        } else if (key == "want_up") {
            ok = flag(v, m.want_up);
        } else if (key == "no_restart") {
            ok = flag(v, m.no_restart);
        } else if (key == "ready") {
            ok = flag(v, m.ready);
        } else if (key == "current") {
            m.current.reset();
            for (int p = 0; p < 4; ++p) {
                if (program_name(static_cast<program>(p)) == v) m.current = static_cast<program>(p);
            }
            ok = m.current || v == "-";
        } else if (key == "main_gone") {
            ok = flag(v, m.main_gone);
        } else if (key == "after_kill") {
            ok = v == "decide" || v == "down" || v == "fail";
            m.after_kill = v == "decide" ? intent::decide
                           : v == "down" ? intent::down
                                         : intent::fail;
        } else if (key == "killed") {
            ok = v == "none" || v == "term" || v == "kill";
            m.killed = v == "term"   ? kill_stage::term_sent
                       : v == "kill" ? kill_stage::kill_sent
                                     : kill_stage::none;
        } else if (key == "failing") {
            ok = flag(v, m.failing);
        } else if (key == "watchdog_armed") {
            ok = flag(v, m.watchdog_armed);
        } else if (key == "self_stopping") {
            ok = flag(v, m.self_stopping);
        } else if (key == "deadline") {
            mono_time t{};
            if (v == "-") {
                m.deadline.reset();
            } else {
                ok = nanos(v, t);
                m.deadline = t;
            }
        } else if (key == "since") {
            ok = nanos(v, m.since);
        } else if (key == "run_started") {
            ok = nanos(v, m.run_started);
        } else if (key == "restart_count") {
            ok = number(v, m.restart_count);
        } else if (key == "last_run_status") {
            ok = number(v, m.last_run_status);
        } else if (key == "record") {
            auto f = split_fields(v);
            unsigned i = 0;
            exit_record r;
            ok = f.size() == 4 && number(f[0], i) && i < 4 && flag(f[1], r.valid) &&
                 number(f[2], r.wait_status) && nanos(f[3], r.when);
            if (ok) m.records[i] = r;
        } else if (key == "pid") {
            ok = number(v, s.pid);
        } else if (key == "pid_start") {
            ok = number(v, s.pid_start);
        } else if (key == "pgid") {
            ok = number(v, s.pgid);
        } else if (key == "paused") {
            ok = flag(v, s.paused);
        } else if (key == "plumb_to") {
            s.plumb_to = v == "-" ? "" : std::string(v);
        } else if (key == "input") {
            ok = flag(v, s.input);
        } else if (key == "ready_pipe") {
            ok = flag(v, s.ready_pipe);
        } else if (key == "status_text") {
            s.status_text = one_line(v);
        }
    }
    if (!ok || s.name.empty() || s.bundle_dir.empty()) return std::nullopt;
    return s;
}

result<void> write_saved(const std::string& dir, const saved_service& s) {
    std::string text = serialize(s);
    std::string tmp = dir + "/." + s.name + ".tmp";
    std::string final_path = dir + "/" + s.name;
    unique_fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) return fail();
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
        return fail();
    }
    fd.reset();
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) return fail();
    return {};
}

void remove_saved(const std::string& dir, const std::string& name) {
    ::unlink((dir + "/" + name).c_str());
}

std::vector<saved_service> read_all_saved(const std::string& dir) {
    std::vector<saved_service> all;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return all;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::string path = dir + "/" + e->d_name;
        unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) continue;
        std::string text;
        char buf[4096];
        ssize_t n;
        while ((n = ::read(fd.get(), buf, sizeof buf)) > 0)
            text.append(buf, static_cast<std::size_t>(n));
        auto s = parse_saved(text);
        if (!s || s->name != e->d_name) {
            log::warn("unable to understand the state file {}; ignoring it", path);
            continue;
        }
        all.push_back(std::move(*s));
    }
    ::closedir(d);
    return all;
}

}  // namespace hw::svc
