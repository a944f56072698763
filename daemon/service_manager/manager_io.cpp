// manager_io.cpp: startup and recovery, readiness (notification-fd, sd_notify), process
// trees, pidfds of processes that are not our children, and the per-round flush.
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "common/log.hpp"
#include "common/process.hpp"
#include "common/text_file.hpp"
#include "guard.hpp"
#include "procfs.hpp"
#include "service_record.hpp"
#include "state_file.hpp"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace hw::svc {

namespace {

int mkdir_parents(const std::string& path, mode_t mode) {
    for (std::size_t i = 1; i <= path.size(); ++i) {
        if (i != path.size() && path[i] != '/') continue;
        if (::mkdir(path.substr(0, i).c_str(), mode) != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

// A wait status from the siginfo of waitid().
int wait_status_of(const siginfo_t& info) {
    switch (info.si_code) {
        case CLD_EXITED:
            return (info.si_status & 0xff) << 8;
        case CLD_KILLED:
            return info.si_status & 0x7f;
        case CLD_DUMPED:
            return (info.si_status & 0x7f) | 0x80;
        default:
            return unknown_status;
    }
}

// The service name in a /proc/<pid>/cgroup line "0::/.../services/<name>[/...]".
std::string cgroup_service_name(pid_t pid) {
    auto text = read_text_file(fmt::format("/proc/{}/cgroup", pid).c_str());
    if (!text) return {};
    for (auto line : split_lines(*text)) {
        if (!line.starts_with("0::")) continue;
        auto at = line.rfind("/services/");
        if (at == std::string_view::npos) return {};
        auto rest = line.substr(at + 10);
        return std::string(rest.substr(0, rest.find('/')));
    }
    return {};
}

constexpr std::chrono::milliseconds first_tree_recheck{1};
constexpr std::chrono::milliseconds last_tree_recheck{250};

}  // namespace

result<void> manager::start(std::map<std::string, unique_fd> stored) {
    if (mkdir_parents(services_dir_, 0755) != 0) {
        log::error("unable to create {}: {}", services_dir_, errno_code().message());
        return fail();
    }
    if (opts_.try_cgroups) {
        std::string why;
        cgroups_ = cgroup_root::probe(&why);
        if (cgroups_) {
            log::info("process trees: cgroup v2 under {} (controllers: {})", cgroups_->path(),
                      cgroups_->controllers().empty() ? "none" : cgroups_->controllers());
            inotify_ = unique_fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
            if (!inotify_) {
                log::warn("unable to create an inotify instance: {}", errno_code().message());
            } else {
                auto id =
                    loop_.poll_readable(inotify_.get(), [this](int) noexcept { on_inotify(); });
                if (!id) log::error("unable to watch inotify: {}", id.error().message());
            }
        } else {
            log::info("process trees: process groups ({})", why);
        }
    } else {
        log::info("process trees: process groups (cgroups disabled)");
    }

    if (auto it = stored.find("notify"); it != stored.end()) {
        auto s = notify_socket::adopt(std::move(it->second));
        if (s) notify_ = std::move(*s);
        stored.erase(it);
    }
    if (!notify_) {
        auto s = notify_socket::bind(notify_path_);
        if (!s) {
            log::error("unable to bind the sd_notify socket {}: {}", notify_path_,
                       s.error().message());
        } else {
            notify_ = std::move(*s);
            store_.store("notify", notify_->fd());
        }
    }
    if (notify_) {
        auto id = loop_.poll_readable(notify_->fd(), [this](int) noexcept { on_notify(); });
        if (!id) log::error("unable to watch the sd_notify socket: {}", id.error().message());
    }

    // Recovery: first every service with its pipes and plumbing, then their processes (which
    // may restart programs, which need the plumbing in place).
    auto saved = read_all_saved(services_dir_);
    succeeds_a_manager_ = !saved.empty();
    if (!cgroups_) open_children_files();
    std::vector<std::pair<service*, saved_service>> restored;
    std::vector<unique_fd> pidfds;  // one per restored service, maybe empty
    for (auto& sv : saved) {
        auto bundle = read_bundle(sv.bundle_dir, sv.name, opts_.run_dir);
        if (!bundle) {
            log::error("{}: unable to reload after a restart: {}", sv.name, bundle.error().message);
            continue;
        }
        auto created = create_service(sv.name, std::move(*bundle));
        if (!created) {
            log::error("unable to reload {} after a restart: {}", sv.name, created.error().message);
            continue;
        }
        service& s = **created;
        s.machine = service_machine(s.bundle.config, sv.machine);
        s.paused = sv.paused;
        s.status_text = sv.status_text;
        s.plumb_to = sv.plumb_to;
        s.wall_since = wall_of(sv.machine.since);
        auto r = stored.find("in-r:" + sv.name), w = stored.find("in-w:" + sv.name);
        if (r != stored.end() && w != stored.end()) {
            s.in_read = std::move(r->second);
            s.in_write = std::move(w->second);
            stored.erase(r);
            stored.erase(w);
        } else if (sv.input) {
            log::warn("{}: its input pipe was lost; output in it is gone", sv.name);
        }
        if (auto p = stored.find("ready:" + sv.name); p != stored.end()) {
            s.ready_read = std::move(p->second);
            move_high(s.ready_read);
            stored.erase(p);
        }
        unique_fd pidfd;  // of the process the state file names, when PID 1 kept it
        if (auto p = stored.find(parked_pidfd_name(sv.name, sv.pid)); p != stored.end()) {
            pidfd = std::move(p->second);
            move_high(pidfd);
            stored.erase(p);
        }
        pidfds.push_back(std::move(pidfd));
        restored.emplace_back(&s, std::move(sv));
    }
    for (auto& [name, fd] : stored) store_.remove(name);  // nothing refers to these any more
    for (auto& [s, sv] : restored) {
        for (auto& [name, other] : services_) {
            if (other->plumb_to == s->name) ensure_input(*s);
        }
    }
    std::size_t adopted = 0;
    for (std::size_t i = 0; i < restored.size(); ++i) {
        auto& [s, sv] = restored[i];
        std::deque<event> follow_ups;
        if (s->ready_read) {
            if (s->machine.state().ph == phase::running && !s->machine.state().ready) {
                watch_ready_pipe(*s);
            } else {
                s->ready_read.reset();
                store_.remove("ready:" + s->name);
            }
        }
        adopt(*s, sv.pid, sv.pid_start, sv.pgid, std::move(pidfds[i]), follow_ups);
        if (s->pid > 0) ++adopted;
        if (s->machine.state().ph == phase::killing) watch_tree(*s, follow_ups);
        write_status_file(*s);
        for (auto& ev : follow_ups) deliver(*s, ev);
        after_events(*s);
    }
    if (!restored.empty()) {
        log::notice("recovered {} services from {}, {} processes re-adopted", restored.size(),
                    services_dir_, adopted);
    }
    arm_flush_store();
    return {};
}

// Takes over the process recorded for a service by our predecessor, if it is still the same
// process; otherwise the machine learns that it ended, with its exit status when the process
// is a zombie or when `stored_pidfd` (the predecessor's pidfd of it, kept by PID 1) tells it.
void manager::adopt(service& s, pid_t pid, std::uint64_t start_time, pid_t pgid,
                    unique_fd stored_pidfd, std::deque<event>& follow_ups) {
    const auto& m = s.machine.state();
    if (pgid > 0 && !s.tree.uses_cgroup() && ::kill(-pgid, 0) == 0) s.tree.set_group(pgid);
    auto forget_stored = [&] {
        if (stored_pidfd) store_.remove(parked_pidfd_name(s.name, pid));
    };
    if (!m.current || m.main_gone) return forget_stored();
    auto st = pid > 0 ? read_proc_stat(pid) : std::nullopt;
    bool same = st && st->start_time == start_time;
    if (same && st->state != 'Z' && st->state != 'X') {
        if (auto fd = pidfd_open(pid)) {
            s.pid = pid;
            s.pid_start = start_time;
            s.pidfd = std::move(*fd);
            move_high(s.pidfd);
            s.is_child = false;
            s.prog = m.current;
            pids_[pid] = &s;
            if (!stored_pidfd) park_pidfd(s);  // else PID 1 keeps one of this process already
            watch_pidfd(s);
            return;
        }
    }
    int status = same && st->state == 'Z' ? st->exit_code : unknown_status;
    if (status == unknown_status && stored_pidfd)
        status = pidfd_exit_status(stored_pidfd.get()).value_or(unknown_status);
    forget_stored();
    bool empty = tree_is_empty(s);
    if (empty) s.tree.set_group(0);
    follow_ups.push_back(exited{*m.current, status, empty});
}

std::string parked_pidfd_name(std::string_view service, pid_t pid) {
    return fmt::format("pid:{}:{}", service, pid);
}

void manager::park_pidfd(const service& s) {
    if (!s.pidfd || s.pid <= 0 || !store_.present()) return;
    unique_fd copy(::fcntl(s.pidfd.get(), F_DUPFD_CLOEXEC, high_fd_base));
    if (copy) queue_park(parked_pidfd_name(s.name, s.pid), std::move(copy));
}

void manager::unpark_pidfd(const service& s) {
    if (s.pid > 0 && store_.present()) queue_park(parked_pidfd_name(s.name, s.pid), unique_fd());
}

// A process that ends within park_delay of its start costs PID 1 nothing (the park and unpark
// cancel out); a manager that dies within it loses only that process's exit status.
void manager::queue_park(std::string entry, unique_fd fd) {
    constexpr std::chrono::milliseconds park_delay{10};
    if (auto it = pending_parks_.find(entry); !fd && it != pending_parks_.end() && it->second) {
        pending_parks_.erase(it);
        return;
    }
    pending_parks_[std::move(entry)] = std::move(fd);
    if (park_timer_) return;
    auto id = loop_.after(park_delay, [this](int) noexcept {
        park_timer_ = {};
        guarded("park pidfds in the fd store", [&] { apply_parks(); });
    });
    if (id)
        park_timer_ = *id;
    else
        apply_parks();
}

void manager::apply_parks() {
    for (auto& [entry, fd] : pending_parks_) {
        if (fd)
            store_.store(entry, std::move(fd));
        else
            store_.remove(entry);
    }
    pending_parks_.clear();
    arm_flush_store();
}

void manager::watch_pidfd(service& s) {
    loop_.cancel(s.pidfd_watch);
    auto id = loop_.poll_readable(s.pidfd.get(), [this, &s](int) noexcept {
        s.pidfd_watch = {};
        guarded("handle the end of a process", [&] { on_pidfd(s); });
    });
    if (id) {
        s.pidfd_watch = *id;
    } else {
        log::error("{}: unable to watch pid {}: {}", s.name, s.pid, id.error().message());
    }
}

void manager::on_pidfd(service& s) {
    if (s.pid <= 0 || !s.pidfd) return;
    siginfo_t info{};
    int status = unknown_status;
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(s.pidfd.get()), &info,
                 WEXITED | WNOHANG) == 0 &&
        info.si_pid == s.pid) {
        status = wait_status_of(info);  // it had become our child
    } else {
        status = status_of_ended(s, s.pidfd.get());
    }
    process_ended(s, status);
}

// The wait status of the ended process `s` adopted (not our child, so PID 1 reaps it), whose
// pidfd is `pidfd`: recorded in the pidfd once reaped, else read from /proc while a zombie.
// Asked in that order, and the pidfd once more, a reaping in between cannot lose it.
int manager::status_of_ended(const service& s, int pidfd) const {
    if (auto recorded = pidfd_exit_status(pidfd)) return *recorded;
    auto st = read_proc_stat(s.pid);
    if (st && st->state == 'Z' && (!s.pid_start || st->start_time == s.pid_start))
        return st->exit_code;  // PID 1 has not reaped it yet
    return pidfd_exit_status(pidfd).value_or(unknown_status);
}

void manager::watch_ready_pipe(service& s) {
    auto id = loop_.poll_readable(s.ready_read.get(), [this, &s](int) noexcept {
        s.ready_watch = {};
        guarded("read a notification pipe", [&] { on_ready_pipe(s); });
    });
    if (id) s.ready_watch = *id;
}

// s6 protocol: a newline on the notification fd means ready; EOF without one means never.
void manager::on_ready_pipe(service& s) {
    if (!s.ready_read) return;
    char buf[512];
    ssize_t n = ::read(s.ready_read.get(), buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        watch_ready_pipe(s);
        return;
    }
    bool ready = n > 0 && std::memchr(buf, '\n', static_cast<std::size_t>(n)) != nullptr;
    if (n > 0 && !ready) {
        watch_ready_pipe(s);
        return;
    }
    s.ready_read.reset();
    store_.remove("ready:" + s.name);
    arm_flush_store();
    if (ready) deliver(s, became_ready{});
}

void manager::on_notify() {
    receive_notifications();
    auto id = loop_.poll_readable(notify_->fd(), [this](int) noexcept { on_notify(); });
    if (!id) log::error("unable to watch the sd_notify socket: {}", id.error().message());
}

// Handles the datagrams waiting on the sd_notify socket (at most 256 a call).
void manager::receive_notifications() {
    if (!notify_) return;
    guarded("handle sd_notify datagrams", [&] {
        for (int budget = 0; budget < 256; ++budget) {
            auto d = notify_->receive();
            if (!d) {
                log::error("unable to receive on the sd_notify socket: {}", d.error().message());
                break;
            }
            if (!*d) break;
            service* s = (*d)->pid > 0 ? owner_of((*d)->pid) : nullptr;
            if (!s) {
                log::debug("ignoring a notification from pid {}, which belongs to no service",
                           (*d)->pid);
                continue;
            }
            apply_notify(*s, (*d)->pid, parse_notify((*d)->text));
        }
    });
}

void manager::apply_notify(service& s, pid_t sender, const notify_message& m) {
    if (m.status) {
        s.status_text = m.status->substr(0, proto::max_text);
        mark_dirty(s);
    }
    if (m.main_pid && *m.main_pid != s.pid && s.prog == program::run) {
        pid_t pid = *m.main_pid;
        if (owner_of(pid) != &s) {
            log::warn("{}: ignoring MAINPID={} from pid {}: not one of its processes", s.name, pid,
                      sender);
        } else if (auto fd = pidfd_open(pid)) {
            pids_.erase(s.pid);  // the former main process is now just a member of the tree
            s.pid = pid;
            s.pid_start = 0;
            s.pidfd = std::move(*fd);
            move_high(s.pidfd);
            auto st = read_proc_stat(pid);
            s.is_child = st && st->ppid == ::getpid();
            if (st && !s.tree.uses_cgroup()) s.tree.set_group(st->pgrp);
            pids_[pid] = &s;
            watch_pidfd(s);
            write_status_file(s);
            mark_dirty(s);
        }
    }
    for (const auto& ev : notify_events(m, s.bundle.config.ready_by)) deliver(s, ev);
}

// The service a process belongs to: its main process, its cgroup, its process group, or the
// nearest ancestor that is one of those.
manager::service* manager::owner_of(pid_t pid) {
    if (auto it = pids_.find(pid); it != pids_.end()) return it->second;
    if (cgroups_) {
        auto it = services_.find(cgroup_service_name(pid));
        return it == services_.end() ? nullptr : it->second.get();
    }
    for (int depth = 0; depth < 64 && pid > 1; ++depth) {
        auto st = read_proc_stat(pid);
        if (!st) return nullptr;
        for (auto& [name, s] : services_) {
            if (s->tree.group() > 0 && s->tree.group() == st->pgrp) return s.get();
        }
        pid = st->ppid;
        if (auto it = pids_.find(pid); it != pids_.end()) return it->second;
    }
    return nullptr;
}

void manager::open_children_files() {
    auto open_children = [](unique_fd& fd, pid_t parent) {
        auto path = fmt::format("/proc/{0}/task/{0}/children", parent);
        fd = unique_fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) {
            log::warn("unable to open {} (escaped processes go unseen): {}", path,
                      errno_code().message());
        }
        move_high(fd);
    };
    open_children(own_children_, ::getpid());
    if (succeeds_a_manager_ && ::getpid() != 1) open_children(pid1_children_, 1);
}

// Escaped processes: in pgroup mode, a process that left the service's process group (setsid,
// setpgid) and whose parent has exited is a child of ours (we are a subreaper), or of PID 1
// when it was our predecessor's. The environment marker names the service (the kernel keeps a
// process's initial environment in /proc/PID/environ). The scan is made at most once per loop
// round (flush() forgets it), since a round may stop or reap many services; it is cheap
// anyway: all our other children are main processes (known), and PID 1's children are looked
// at only by a successor.
const std::vector<manager::escaped_process>& manager::scan_escaped() const {
    if (escaped_scan_) return *escaped_scan_;
    auto& found = escaped_scan_.emplace();
    for (const unique_fd* file : {&own_children_, &pid1_children_}) {
        if (!*file) continue;
        auto children = reread_text_file(file->get(), 1024 * 1024);
        if (!children) continue;
        for (auto field : split_fields(*children)) {
            pid_t pid = 0;
            if (!hw::parse_number(field, pid) || pids_.contains(pid)) continue;
            auto env = read_text_file(fmt::format("/proc/{}/environ", pid).c_str(), 4096);
            if (!env) continue;
            for (std::size_t at = 0; at < env->size();) {
                std::size_t end = std::min(env->find('\0', at), env->size());
                std::string_view entry(env->data() + at, end - at);
                if (entry.starts_with(service_marker)) {
                    found.push_back({pid, std::string(entry.substr(service_marker.size()))});
                    break;
                }
                at = end + 1;
            }
        }
    }
    return found;
}

std::vector<pid_t> manager::escaped_from(const service& s) const {
    std::vector<pid_t> pids;
    for (const auto& e : scan_escaped())
        if (e.service == s.name) pids.push_back(e.pid);
    return pids;
}

bool manager::tree_is_empty(const service& s) const {
    return s.tree.empty() && (s.tree.uses_cgroup() || escaped_from(s).empty());
}

void manager::signal_tree(service& s, int sig) {
    s.tree.signal_all(sig);
    if (s.tree.uses_cgroup()) return;
    for (pid_t pid : escaped_from(s)) ::kill(pid, sig);
}

void manager::watch_tree(service& s, std::deque<event>& follow_ups) {
    if (tree_is_empty(s)) {
        s.watching_tree = false;
        s.tree.set_group(0);
        follow_ups.push_back(tree_empty{});
        return;
    }
    s.watching_tree = true;
    if (!s.tree.uses_cgroup()) {
        // A new watch: look again soon (the leftovers may be zombies that PID 1 is about to
        // reap, e.g. after kill -9 -1), then less and less often.
        if (tree_recheck_delay_ > 2 * first_tree_recheck) {  // the armed recheck is later
            loop_.cancel(tree_recheck_);
            tree_recheck_delay_ = first_tree_recheck;
        }
        arm_tree_recheck();
    }
}

// Trees whose last process was not reaped by us (its parent was another member that left the
// group, or PID 1 reaps it) would never be noticed: a recheck runs while any pgroup tree is
// watched, 1 ms after a new watch began and then doubling up to every 250 ms.
void manager::arm_tree_recheck() {
    if (tree_recheck_) return;
    auto delay = std::max(tree_recheck_delay_, first_tree_recheck);
    auto id = loop_.after(delay, [this](int) noexcept {
        tree_recheck_ = {};
        guarded("check process trees", [&] { check_trees(); });
    });
    if (id) tree_recheck_ = *id;
    tree_recheck_delay_ = std::min(delay * 2, last_tree_recheck);
}

void manager::check_trees() {
    std::vector<std::string> emptied;
    for (auto& [name, s] : services_) {
        if (s->watching_tree && tree_is_empty(*s)) emptied.push_back(name);
    }
    for (const auto& name : emptied) {
        auto it = services_.find(name);
        if (it == services_.end() || !it->second->watching_tree) continue;
        it->second->watching_tree = false;
        it->second->tree.set_group(0);
        deliver(*it->second, tree_empty{});
    }
    bool still_watching = false;
    for (auto& [name, s] : services_) {
        if (s->watching_tree && !s->tree.uses_cgroup()) {
            still_watching = true;
            break;
        }
    }
    if (still_watching) {
        arm_tree_recheck();
    } else {
        loop_.cancel(tree_recheck_);
        tree_recheck_delay_ = {};
    }
}

void manager::on_inotify() {
    alignas(inotify_event) char buf[4096];
    ssize_t n;
    while ((n = ::read(inotify_.get(), buf, sizeof buf)) > 0) {
    }
    guarded("check process trees", [&] { check_trees(); });
    auto id = loop_.poll_readable(inotify_.get(), [this](int) noexcept { on_inotify(); });
    if (!id) log::error("unable to watch inotify: {}", id.error().message());
}

void manager::arm_flush_store() {
    if (!store_.present() || !store_.has_pending() || store_flush_) return;
    auto id = loop_.poll_writable(store_.fd(), [this](int) noexcept {
        store_flush_ = {};
        guarded("send to the fd store", [&] {
            store_.flush();
            arm_flush_store();
        });
    });
    if (id) store_flush_ = *id;
}

void manager::flush() {
    escaped_scan_.reset();  // processes come and go between rounds
    for (service* s : dirty_) {
        s->dirty = false;
        const std::string& name = s->name;
        saved_service sv;
        sv.name = name;
        sv.bundle_dir = s->bundle.bundle_dir;
        sv.machine = s->machine.state();
        if (s->pid > 0 && s->pid_start == 0) {
            if (auto st = read_proc_stat(s->pid)) s->pid_start = st->start_time;
        }
        sv.pid = s->pid;
        sv.pid_start = s->pid_start;
        sv.pgid = s->tree.group();
        sv.paused = s->paused;
        sv.plumb_to = s->plumb_to;
        sv.input = static_cast<bool>(s->in_read);
        sv.ready_pipe = static_cast<bool>(s->ready_read);
        sv.status_text = s->status_text;
        if (auto r = write_saved(services_dir_, sv); !r) {
            log::error("{}: unable to write its state file: {}", name, r.error().message());
        }
    }
    dirty_.clear();
    store_.flush();
    arm_flush_store();
}

}  // namespace hw::svc
