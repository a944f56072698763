// smctl: a test client of service-manager's control socket, built on common/control_client.
// Not system-control: just enough for the e2e tests to drive and observe service-manager.
//
//   smctl [--socket PATH] load NAME DIR | unload NAME | start NAME... | stop NAME...
//         | signal NAME LETTER | plumb PRODUCER CONSUMER | status NAME | list
//         | wait STATE MS NAME...    subscribe, then block (no polling) until every NAME is in
//                                    STATE; exit 1 on timeout or if one fails instead
//         | load-dir DIR             load every bundle DIR/* under its directory name
//         | bench-restart NAME N     N times: SIGKILL the main process of NAME and time until
//                                    the event announcing its new main process arrives
// Exit codes: 0 ok, 1 "no" (timeout, failed), 100 usage, 111 error.
#include <dirent.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "common/control_client.hpp"

using namespace hw;
using namespace std::chrono;

namespace {

int fail_with(const control_client& c, const std::error_code& ec, const std::string& what) {
    std::fprintf(stderr, "smctl: unable to %s: %s%s%s\n", what.c_str(), ec.message().c_str(),
                 c.error_message().empty() ? "" : ": ", c.error_message().c_str());
    return 111;
}

void print(const proto::service_status& s) {
    std::printf("%s state=%s pid=%u restarts=%u ready=%d want=%s exit=%d has_exit=%d text=%s\n",
                s.name.c_str(), std::string(proto::state_name(s.state)).c_str(), s.main_pid,
                s.restart_count, (s.flags & proto::flag_ready) ? 1 : 0,
                (s.flags & proto::flag_wanted_up) ? "up" : "down", s.last_wait_status,
                (s.flags & proto::flag_has_exit) ? 1 : 0, s.status_text.c_str());
}

std::optional<proto::service_state> parse_state(const std::string& name) {
    for (std::uint8_t i = 0; i < proto::service_state_count; ++i) {
        auto s = static_cast<proto::service_state>(i);
        if (proto::state_name(s) == name) return s;
    }
    return std::nullopt;
}

int wait_for(control_client& c, proto::service_state want, milliseconds timeout,
             std::set<std::string> names) {
    if (auto r = c.subscribe(); !r) return fail_with(c, r.error(), "subscribe");
    for (auto it = names.begin(); it != names.end();) {
        auto s = c.status(*it);
        if (!s) return fail_with(c, s.error(), "get the status of " + *it);
        it = s->state == want ? names.erase(it) : std::next(it);
    }
    auto deadline = steady_clock::now() + timeout;
    while (!names.empty()) {
        auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (left.count() < 0) left = milliseconds(0);
        auto ev = c.next_event(left);
        if (!ev) return fail_with(c, ev.error(), "wait for events");
        if (!*ev) {
            std::fprintf(stderr, "smctl: timed out waiting for %zu services (first: %s) to be %s\n",
                         names.size(), names.begin()->c_str(),
                         std::string(proto::state_name(want)).c_str());
            return 1;
        }
        const auto& s = **ev;
        if (!names.count(s.name)) continue;
        if (s.state == want) {
            names.erase(s.name);
        } else if (s.state == proto::service_state::failed) {
            std::fprintf(stderr, "smctl: %s failed\n", s.name.c_str());
            return 1;
        }
    }
    return 0;
}

int load_dir(control_client& c, const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
        std::perror(dir.c_str());
        return 111;
    }
    std::vector<std::string> names;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    ::closedir(d);
    for (const auto& n : names) {
        if (auto r = c.load(n, dir + "/" + n); !r) return fail_with(c, r.error(), "load " + n);
    }
    return 0;
}

int bench_restart(control_client& c, const std::string& name, int rounds) {
    if (auto r = c.subscribe(); !r) return fail_with(c, r.error(), "subscribe");
    std::vector<double> us;
    for (int i = 0; i < rounds; ++i) {
        auto s = c.status(name);
        if (!s) return fail_with(c, s.error(), "get the status");
        std::uint32_t old = s->main_pid;
        if (old == 0) return 1;
        auto t0 = steady_clock::now();
        ::kill(static_cast<pid_t>(old), SIGKILL);
        for (;;) {
            auto ev = c.next_event(milliseconds(5000));
            if (!ev || !*ev) return 1;
            if ((*ev)->name == name && (*ev)->main_pid != 0 && (*ev)->main_pid != old) break;
        }
        us.push_back(duration<double, std::micro>(steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("restart after SIGKILL, %d rounds: min %.0f us, median %.0f us, max %.0f us\n",
                rounds, us.front(), us[us.size() / 2], us.back());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket{proto::default_socket};
    int i = 1;
    if (i + 1 < argc && std::strcmp(argv[i], "--socket") == 0) {
        socket = argv[i + 1];
        i += 2;
    }
    if (i >= argc) return 100;
    std::string verb = argv[i++];
    std::vector<std::string> args(argv + i, argv + argc);
    auto conn = control_client::connect(socket);
    if (!conn) {
        std::fprintf(stderr, "smctl: unable to connect to %s: %s\n", socket.c_str(),
                     conn.error().message().c_str());
        return 111;
    }
    control_client& c = *conn;
    auto check = [&](result<void> r, const std::string& what) {
        return r ? 0 : fail_with(c, r.error(), what);
    };
    if (verb == "load" && args.size() == 2) return check(c.load(args[0], args[1]), "load");
    if (verb == "load-dir" && args.size() == 1) return load_dir(c, args[0]);
    if (verb == "unload" && args.size() == 1) return check(c.unload(args[0]), "unload");
    if ((verb == "start" || verb == "stop") && !args.empty()) {
        for (const auto& n : args) {
            auto r = verb == "start" ? c.start(n) : c.stop(n);
            if (!r) return fail_with(c, r.error(), verb + " " + n);
        }
        return 0;
    }
    if (verb == "signal" && args.size() == 2 && args[1].size() == 1) {
        return check(c.signal(args[0], args[1][0]), "signal");
    }
    if (verb == "plumb" && args.size() == 2) return check(c.plumb(args[0], args[1]), "plumb");
    if (verb == "status" && args.size() == 1) {
        auto s = c.status(args[0]);
        if (!s) return fail_with(c, s.error(), "get the status");
        print(*s);
        return 0;
    }
    if (verb == "list" && args.empty()) {
        auto all = c.list();
        if (!all) return fail_with(c, all.error(), "list");
        for (const auto& s : *all) print(s);
        return 0;
    }
    if (verb == "wait" && args.size() >= 3) {
        auto st = parse_state(args[0]);
        if (!st) return 100;
        std::set<std::string> names(args.begin() + 2, args.end());
        return wait_for(c, *st, milliseconds(std::atol(args[1].c_str())), names);
    }
    if (verb == "bench-restart" && args.size() == 2) {
        return bench_restart(c, args[0], std::atoi(args[1].c_str()));
    }
    std::fprintf(stderr, "smctl: bad usage (see the header of tests/e2e/smctl.cpp)\n");
    return 100;
}
