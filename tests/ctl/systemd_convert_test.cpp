// The converter (ctl/systemd_convert.hpp): each mapping of a systemd setting into the bundle.
// Where a generated program makes a decision (restart, conditions) or must pass arguments
// exactly, the test runs it with sh.
#include "ctl/systemd_convert.hpp"

#include <doctest/doctest.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <ostream>

using namespace hw::ctl::systemd;

namespace {

// What exists on the bundle path in these tests: the standard targets and a service "db".
bool standard_bundles(const bundle_ref& b) {
    for (const char* t : {"sysinit", "basic", "shutdown", "multi-user", "normal", "workstation"})
        if (b.target && b.name == t) return true;
    return !b.target && (b.name == "db" || b.name == "mount@srv");
}

conversion convert(std::string_view text, std::string name = "foo.service",
                   const bundle_exists& exists = standard_bundles) {
    unit_source u{name, "/lib/systemd/system/" + name, {}, {}};
    hw::diagnostics problems;
    parse_unit(u.path, text, u.assignments, problems);
    REQUIRE(problems.empty());
    return convert_unit(u, exists);
}

// The bundle, which must have been made.
bundle_spec made(std::string_view text, std::string name = "foo.service") {
    auto c = convert(text, std::move(name));
    for (const auto& p : c.problems) INFO(hw::to_string(p));
    REQUIRE(c.bundle);
    return *c.bundle;
}

const bundle_file* find_file(const bundle_spec& b, std::string_view path) {
    for (const auto& f : b.files)
        if (f.path == path) return &f;
    return nullptr;
}

std::string file(const bundle_spec& b, std::string_view path) {
    const bundle_file* f = find_file(b, path);
    REQUIRE_MESSAGE(f, "no " << path);
    return f->content;
}

bool contains(std::string_view text, std::string_view part) {
    return text.find(part) != std::string_view::npos;
}

bool has_link(const bundle_spec& b, std::string_view dir, std::string_view name, bool target) {
    return std::find(b.links.begin(), b.links.end(),
                     bundle_link{std::string(dir), {std::string(name), target}}) != b.links.end();
}

// The problem at `line` whose message holds `part`.
bool has_problem(const conversion& c, unsigned line, std::string_view part,
                 hw::diagnostic::level level = hw::diagnostic::level::warning) {
    for (const auto& p : c.problems)
        if (p.line == line && p.severity == level && contains(p.message, part)) return true;
    return false;
}

struct outcome {
    int status;
    std::string output;
};

// Runs `script` with sh (dash where there is one) and `args`; its stdout and exit status.
outcome run_sh(const std::string& script, const std::string& args = "") {
    char path[] = "/tmp/hw-convert-test-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << script;
    std::string shell = ::access("/bin/dash", X_OK) == 0 ? "/bin/dash" : "/bin/sh";
    FILE* p = ::popen((shell + " " + path + " " + args + " 2>&1").c_str(), "r");
    REQUIRE(p);
    outcome o{0, {}};
    char buf[512];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) o.output.append(buf, n);
    int status = ::pclose(p);
    ::unlink(path);
    o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return o;
}

// The run program with its last command's program replaced by printf, so that running it
// prints each argument the command would get, in brackets.
std::string printing(std::string run, std::string_view program) {
    auto at = run.rfind(program);
    REQUIRE(at != std::string::npos);
    return run.replace(at, program.size(), "printf '[%s]'");
}

}  // namespace

TEST_CASE("Type=simple: run execs the command in /; not restarted (Restart=no)") {
    auto b = made("[Service]\nExecStart=/usr/sbin/daemon -f\n");
    std::string run = file(b, "service/run");
    CHECK(run.starts_with("#!/bin/sh\n"));
    CHECK(contains(run, "\nset -e\n"));
    CHECK(contains(run, "\ncd /\n"));
    CHECK(contains(run, "\nexec /usr/sbin/daemon -f\n"));
    CHECK(find_file(b, "service/run")->executable);
    CHECK(!find_file(b, "service/sd_notify"));
    CHECK(!find_file(b, "service/ready_after_run"));
    std::string restart = file(b, "service/restart");
    CHECK(run_sh(restart, "exit 1").status == 1);
    CHECK(run_sh(restart, "crash SEGV 11").status == 1);
    CHECK(file(b, "service/timeout-start") == "90\n");
    CHECK(file(b, "service/timeout-stop") == "90\n");
}

TEST_CASE("arguments reach the program exactly as systemd would pass them") {
    auto b = made(
        "[Service]\nEnvironment=PORT=80 \"SPLIT=a  b\"\n"
        "ExecStart=/bin/prog \"two words\" 'it'\\''s' $$HOME --port=${PORT} $SPLIT "
        "${SPLIT} %n \\x41 \"*\"\n");
    auto o = run_sh(printing(file(b, "service/run"), "/bin/prog"));
    CHECK(o.status == 0);
    CHECK(o.output == "[two words][it's][$HOME][--port=80][a][b][a  b][foo.service][A][*]");
}

TEST_CASE("Type=notify: the sd_notify flag") {
    auto b = made("[Service]\nType=notify\nExecStart=/bin/d\nNotifyAccess=all\n");
    CHECK(find_file(b, "service/sd_notify"));
    CHECK(file(b, "service/timeout-start") == "90\n");
}

TEST_CASE("Type=oneshot: the commands in order, '-' ignores a failure, ready after run") {
    auto c = convert(
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/echo one\n"
        "ExecStart=-/bin/false\nExecStart=/bin/echo two\n");
    REQUIRE(c.bundle);
    auto& b = *c.bundle;
    CHECK(find_file(b, "service/ready_after_run"));
    CHECK(find_file(b, "service/remain"));
    CHECK(file(b, "service/timeout-start") == "0\n");  // systemd: no start limit for a oneshot
    CHECK(!find_file(b, "service/restart"));           // a oneshot is not run again anyway
    auto o = run_sh(file(b, "service/run"));
    CHECK(o.status == 0);
    CHECK(o.output == "one\ntwo\n");
    auto failing = made(
        "[Service]\nType=oneshot\nExecStart=/bin/echo one\nExecStart=/bin/false\n"
        "ExecStart=/bin/echo never\n");
    auto f = run_sh(file(failing, "service/run"));
    CHECK(f.status == 1);
    CHECK(f.output == "one\n");
    CHECK(!find_file(failing, "service/remain"));
}

TEST_CASE("a oneshot without ExecStart= does nothing; other types need exactly one command") {
    auto b = made("[Service]\nRemainAfterExit=yes\n");
    CHECK(find_file(b, "service/ready_after_run"));
    CHECK(run_sh(file(b, "service/run")).status == 0);
    auto none = convert("[Service]\nType=simple\n");
    CHECK(!none.bundle);
    CHECK(has_problem(none, 0, "exactly one ExecStart=", hw::diagnostic::level::error));
    auto two = convert("[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n");
    CHECK(!two.bundle);
    CHECK(has_problem(two, 3, "exactly one ExecStart=", hw::diagnostic::level::error));
}

TEST_CASE("Type=forking: ready once the launcher exits, up while the daemon runs") {
    auto c = convert("[Service]\nType=forking\nPIDFile=/run/d.pid\nExecStart=/usr/sbin/d\n");
    REQUIRE(c.bundle);
    CHECK(find_file(*c.bundle, "service/ready_after_run"));
    CHECK(find_file(*c.bundle, "service/remain"));
    CHECK(has_problem(c, 3, "unused: PIDFile="));
}

TEST_CASE("Type=dbus: after and wants dbus; unknown types are errors") {
    auto b = made("[Service]\nBusName=org.example\nExecStart=/bin/d\n");
    CHECK(has_link(b, "wants", "dbus", false));
    CHECK(has_link(b, "after", "dbus", false));
    auto bad = convert("[Service]\nType=weird\nExecStart=/bin/d\n");
    CHECK(!bad.bundle);
    CHECK(has_problem(bad, 2, "Type=weird", hw::diagnostic::level::error));
}

TEST_CASE("ExecStartPre= is start, ExecStopPost= is stop; ExecStop= is unused") {
    auto c = convert(
        "[Service]\nExecStartPre=/bin/echo pre\nExecStartPre=-/bin/false\n"
        "ExecStart=/bin/d\nExecStop=/bin/kill $MAINPID\nExecStopPost=/bin/echo post\n"
        "ExecReload=/bin/kill -HUP $MAINPID\n");
    REQUIRE(c.bundle);
    auto o = run_sh(file(*c.bundle, "service/start"));
    CHECK(o.status == 0);
    CHECK(o.output == "pre\n");
    CHECK(run_sh(file(*c.bundle, "service/stop")).output == "post\n");
    CHECK(has_problem(c, 5, "unused: ExecStop="));
    CHECK(!has_problem(c, 7, "ExecReload"));  // system-control reload sends SIGHUP
    auto other = convert("[Service]\nExecStart=/bin/d\nExecReload=/usr/bin/d reload\n");
    CHECK(has_problem(other, 3, "unused: ExecReload= (system-control reload sends SIGHUP)"));
}

TEST_CASE("Restart=always: the built-in policy at RestartSec=, StartLimitBurst= its limit") {
    auto b = made(
        "[Unit]\nStartLimitBurst=3\nStartLimitIntervalSec=20s\n[Service]\n"
        "ExecStart=/bin/d\nRestart=always\nRestartSec=500ms\n");
    CHECK(!find_file(b, "service/restart"));
    CHECK(file(b, "service/restart-delay") == "0.5\n");
    CHECK(file(b, "service/restart-delay-max") == "0.5\n");
    CHECK(file(b, "service/restart-limit") == "3\n");
    CHECK(file(b, "service/restart-reset") == "20\n");
}

TEST_CASE("Restart=on-failure: a restart program that says yes to failures only") {
    auto c = convert(
        "[Unit]\nStartLimitBurst=3\n[Service]\nExecStart=/bin/d\n"
        "Restart=on-failure\nRestartSec=0\nSuccessExitStatus=3 SIGUSR1\n"
        "RestartPreventExitStatus=4\n");
    REQUIRE(c.bundle);
    std::string r = file(*c.bundle, "service/restart");
    CHECK(run_sh(r, "exit 0").status == 1);
    CHECK(run_sh(r, "exit 1").status == 0);
    CHECK(run_sh(r, "exit 3").status == 1);  // SuccessExitStatus=
    CHECK(run_sh(r, "exit 4").status == 1);  // RestartPreventExitStatus=
    CHECK(run_sh(r, "term TERM 15").status == 1);
    CHECK(run_sh(r, "crash 10 10").status == 1);  // SIGUSR1 is a success here
    CHECK(run_sh(r, "crash SEGV 11 core").status == 0);
    CHECK(run_sh(r, "kill KILL 9").status == 0);
    CHECK(has_problem(c, 2, "restart-limit applies only to Restart=always"));
}

TEST_CASE("Restart= on-success, on-abnormal, on-watchdog, and RestartSec= as a sleep") {
    std::string success = file(made("[Service]\nExecStart=/bin/d\nRestart=on-success\n"
                                    "RestartSec=0\n"),
                               "service/restart");
    CHECK(run_sh(success, "exit 0").status == 0);
    CHECK(run_sh(success, "term HUP 1").status == 0);
    CHECK(run_sh(success, "exit 2").status == 1);
    std::string abnormal = file(made("[Service]\nExecStart=/bin/d\nRestart=on-abnormal\n"
                                     "RestartSec=0\n"),
                                "service/restart");
    CHECK(run_sh(abnormal, "exit 2").status == 1);
    CHECK(run_sh(abnormal, "term TERM 15").status == 1);
    CHECK(run_sh(abnormal, "abort ABRT 6").status == 0);
    std::string watchdog = file(made("[Service]\nExecStart=/bin/d\nRestart=on-watchdog\n"
                                     "RestartSec=0\n"),
                                "service/restart");
    CHECK(run_sh(watchdog, "abort ABRT 6").status == 0);
    CHECK(run_sh(watchdog, "crash SEGV 11").status == 1);
    std::string slow = file(made("[Service]\nExecStart=/bin/d\nRestart=on-failure\n"
                                 "RestartSec=1min 30s\n"),
                            "service/restart");
    CHECK(contains(slow, "\nexec sleep 90\n"));
    auto bad = convert("[Service]\nExecStart=/bin/d\nRestart=sometimes\n");
    CHECK(has_problem(bad, 3, "not a restart policy", hw::diagnostic::level::error));
    auto looping = convert("[Service]\nType=oneshot\nExecStart=/bin/d\nRestart=always\n");
    CHECK(!looping.bundle);
    CHECK(has_problem(looping, 4, "with Type=oneshot", hw::diagnostic::level::error));
}

TEST_CASE("timeouts and the watchdog, in systemd's time spans") {
    auto b = made(
        "[Service]\nExecStart=/bin/d\nTimeoutSec=20\nTimeoutStartSec=1min 30s\n"
        "WatchdogSec=500ms\n");
    CHECK(file(b, "service/timeout-start") == "90\n");
    CHECK(file(b, "service/timeout-stop") == "20\n");
    CHECK(file(b, "service/watchdog-timeout") == "0.5\n");
    auto inf = made("[Service]\nExecStart=/bin/d\nTimeoutStopSec=infinity\n");
    CHECK(file(inf, "service/timeout-stop") == "0\n");
    auto bad = convert("[Service]\nExecStart=/bin/d\nTimeoutStopSec=soon\n");
    CHECK(!bad.bundle);
    CHECK(has_problem(bad, 3, "not a time span", hw::diagnostic::level::error));
}

TEST_CASE("SendSIGHUP=, SendSIGKILL=, KillMode=, KillSignal=") {
    auto c = convert(
        "[Service]\nExecStart=/bin/d\nSendSIGHUP=yes\nSendSIGKILL=no\n"
        "KillMode=process\nKillSignal=SIGINT\n");
    REQUIRE(c.bundle);
    CHECK(find_file(*c.bundle, "service/use_hangup"));
    CHECK(find_file(*c.bundle, "service/no_kill_signal"));
    CHECK(has_problem(c, 5, "KillMode=process: heartwood stops every process"));
    CHECK(has_problem(c, 6, "unused: KillSignal="));
}

TEST_CASE("Environment=, EnvironmentFile=, UnsetEnvironment= at start time") {
    char dir[] = "/tmp/hw-convert-env-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    std::string env_file = std::string(dir) + "/defaults";
    std::ofstream(env_file) << "# comment\nFROM_FILE=\"quoted value\"\nA=overridden\n";
    auto b = made(
        "[Service]\nEnvironment=A=1 \"B=b  c\"\nEnvironment=GONE=x\n"
        "EnvironmentFile=" +
        env_file +
        "\nEnvironmentFile=-/nonexistent\n"
        "UnsetEnvironment=GONE\nExecStart=/bin/sh -c 'echo \"$A|$B|$FROM_FILE|${GONE-unset}\"'\n");
    std::string run = file(b, "service/run");
    CHECK(contains(run, "export B='b  c'\n"));
    // The reader is read from the service directory, where run starts.
    std::string awk = file(b, "service/environment-file.awk");
    std::ofstream(std::string(dir) + "/environment-file.awk") << awk;
    auto o = run_sh("cd " + std::string(dir) + "\n" + run);
    CHECK(o.status == 0);
    CHECK(o.output == "overridden|b  c|quoted value|unset\n");
    auto missing = made("[Service]\nEnvironmentFile=/nonexistent\nExecStart=/bin/true\n");
    std::ofstream(std::string(dir) + "/environment-file.awk") << awk;
    CHECK(run_sh("cd " + std::string(dir) + "\n" + file(missing, "service/run")).status != 0);
    std::system(("rm -rf " + std::string(dir)).c_str());
    auto bad = convert("[Service]\nEnvironment=NOEQUALS\nExecStart=/bin/d\n");
    CHECK(has_problem(bad, 2, "not an assignment", hw::diagnostic::level::error));
}

TEST_CASE("WorkingDirectory=: /, a path, '-' for optional, '~' for the user's home") {
    auto here = made("[Service]\nWorkingDirectory=/tmp\nExecStart=/bin/pwd\n");
    CHECK(run_sh(file(here, "service/run")).output == "/tmp\n");
    auto optional = made("[Service]\nWorkingDirectory=-/nonexistent\nExecStart=/bin/pwd\n");
    CHECK(run_sh(file(optional, "service/run")).output == "/\n");
    CHECK(run_sh(file(made("[Service]\nWorkingDirectory=/nonexistent\nExecStart=/bin/pwd\n"),
                      "service/run"))
              .status != 0);
    CHECK(contains(
        file(made("[Service]\nUser=u\nWorkingDirectory=~\nExecStart=/bin/d\n"), "service/run"),
        "\ncd \"$HOME\"\n"));
    CHECK(contains(file(made("[Service]\nWorkingDirectory=~\nExecStart=/bin/d\n"), "service/run"),
                   "\ncd /root\n"));
}

TEST_CASE("User=, Group=, SupplementaryGroups=: setpriv, except for '+' commands") {
    auto b = made(
        "[Service]\nUser=www-data\nExecStartPre=+/bin/mkdir -p /run/x\n"
        "ExecStartPre=/bin/true\nExecStart=/usr/sbin/web\n");
    std::string run = file(b, "service/run");
    CHECK(contains(run, "$(getent passwd www-data)"));
    CHECK(contains(run, "export HOME SHELL USER=www-data LOGNAME=www-data\n"));
    CHECK(contains(run,
                   "exec setpriv --reuid=www-data --regid=\"$user_gid\" --init-groups -- "
                   "/usr/sbin/web\n"));
    std::string start = file(b, "service/start");
    CHECK(contains(start, "\n/bin/mkdir -p /run/x\n"));
    CHECK(contains(start,
                   "\nsetpriv --reuid=www-data --regid=\"$user_gid\" --init-groups -- "
                   "/bin/true\n"));
    auto groups = made(
        "[Service]\nUser=u\nGroup=g\nSupplementaryGroups=a b\n"
        "NoNewPrivileges=yes\nExecStart=/bin/d\n");
    CHECK(contains(file(groups, "service/run"),
                   "exec setpriv --reuid=u --regid=g --groups=\"$(id -G u | tr ' ' ,)\",a,b "
                   "--no-new-privs -- /bin/d\n"));
    auto only_start = made(
        "[Service]\nUser=u\nPermissionsStartOnly=yes\nExecStartPre=/bin/p\n"
        "ExecStart=/bin/d\n");
    CHECK(contains(file(only_start, "service/start"), "\n/bin/p\n"));
}

TEST_CASE("UMask=, Nice=, OOMScoreAdjust=, Limit...=") {
    auto b = made(
        "[Service]\nUMask=0027\nNice=-5\nOOMScoreAdjust=-900\nLimitNOFILE=1024:524288\n"
        "LimitCORE=infinity\nLimitFSIZE=1G\nLimitCPU=1min\nLimitNICE=+5\nLimitAS=17179869184\n"
        "ExecStart=/bin/d\n");
    std::string run = file(b, "service/run");
    CHECK(contains(run, "\numask 0027\n"));
    CHECK(contains(run, "\nrenice -n -5 -p $$ >/dev/null\n"));
    CHECK(contains(run, "\necho -900 2>/dev/null >/proc/self/oom_score_adj || :\n"));
    CHECK(contains(run,
                   "\nprlimit --pid $$ --cpu=60:60 --fsize=1073741824:1073741824 "
                   "--core=unlimited:unlimited --nofile=1024:524288 --as=17179869184:17179869184 "
                   "--nice=15:15\n"));
    auto bad = convert(
        "[Service]\nExecStart=/bin/d\nNice=40\nUMask=999\nLimitNOFILE=lots\nLimitNPROC=5K\n");
    CHECK(!bad.bundle);
    CHECK(has_problem(bad, 3, "Nice=40", hw::diagnostic::level::error));
    CHECK(has_problem(bad, 4, "UMask=999", hw::diagnostic::level::error));
    CHECK(has_problem(bad, 5, "LimitNOFILE=lots", hw::diagnostic::level::error));
    CHECK(has_problem(bad, 6, "LimitNPROC=5K", hw::diagnostic::level::error));  // a count
}

TEST_CASE("IOScheduling...=, CPUScheduling...=, CPUAffinity=: ionice, chrt, taskset") {
    auto b = made(
        "[Service]\nIOSchedulingClass=best-effort\nIOSchedulingPriority=7\n"
        "CPUSchedulingPolicy=fifo\nCPUSchedulingPriority=10\n"
        "CPUSchedulingResetOnFork=yes\nCPUAffinity=0 2-3\nExecStart=/bin/d\n");
    std::string run = file(b, "service/run");
    CHECK(contains(run, "\nionice -c 2 -n 7 -p $$\n"));
    CHECK(contains(run, "\nchrt -R --fifo -p 10 $$\n"));
    CHECK(contains(run, "\ntaskset -pc 0,2-3 $$ >/dev/null\n"));
    auto idle = made(
        "[Service]\nIOSchedulingClass=idle\nCPUSchedulingPolicy=idle\n"
        "ExecStart=/bin/d\n");
    CHECK(contains(file(idle, "service/run"), "\nionice -c 3 -p $$\nchrt --idle -p 0 $$\n"));
    auto bad = convert(
        "[Service]\nIOSchedulingClass=fast\nCPUSchedulingPolicy=fifo\n"
        "CPUSchedulingPriority=100\nExecStart=/bin/d\n");
    CHECK(has_problem(bad, 2, "not a class", hw::diagnostic::level::error));
    CHECK(has_problem(bad, 4, "not a number from 1 to 99", hw::diagnostic::level::error));
}

TEST_CASE("StandardOutput=, StandardError=: the system log by default, files, null") {
    auto log = made("[Service]\nStandardOutput=journal\nStandardError=inherit\nExecStart=/bin/d\n");
    CHECK(!contains(file(log, "service/run"), "exec 1"));
    auto append = made("[Service]\nStandardOutput=append:/var/log/d.log\nExecStart=/bin/d\n");
    CHECK(contains(file(append, "service/run"), "\nexec 1>>/var/log/d.log 2>&1\n"));
    auto split = made(
        "[Service]\nStandardOutput=file:/tmp/o\nStandardError=null\n"
        "ExecStart=/bin/d\n");
    CHECK(contains(file(split, "service/run"), "\nexec 1<>/tmp/o 2>/dev/null\n"));
    auto err_only = made("[Service]\nStandardError=truncate:/tmp/e\nExecStart=/bin/d\n");
    CHECK(contains(file(err_only, "service/run"), "\nexec 2>/tmp/e\n"));
    auto tty = convert("[Service]\nStandardOutput=tty\nExecStart=/bin/d\n");
    CHECK(has_problem(tty, 2, "unused: StandardOutput="));
}

TEST_CASE("RuntimeDirectory= and friends: made by start, named in the environment, removed") {
    auto b = made(
        "[Service]\nUser=u\nRuntimeDirectory=d\nRuntimeDirectoryMode=0750\n"
        "StateDirectory=d/state\nExecStart=/bin/d\n");
    std::string start = file(b, "service/start");
    CHECK(contains(start, "\ninstall -d -m 0750 -o u -g \"$user_gid\" /run/d\n"));
    CHECK(contains(start, "\ninstall -d -m 0755 -o u -g \"$user_gid\" /var/lib/d/state\n"));
    CHECK(contains(file(b, "service/run"), "\nexport RUNTIME_DIRECTORY=/run/d\n"));
    CHECK(contains(file(b, "service/stop"), "\ntrap 'rm -rf -- /run/d' EXIT\n"));
    auto kept = made(
        "[Service]\nRuntimeDirectory=d\nRuntimeDirectoryPreserve=yes\n"
        "ExecStart=/bin/d\n");
    CHECK(!find_file(kept, "service/stop"));
    auto bad = convert("[Service]\nRuntimeDirectory=/abs\nExecStart=/bin/d\n");
    CHECK(has_problem(bad, 2, "not a relative path", hw::diagnostic::level::error));
}

TEST_CASE("conditions: checked by run (not started, not restarted), asserts by start") {
    auto c = convert(
        "[Unit]\nConditionPathExists=/nonexistent\nAssertPathIsDirectory=/\n"
        "ConditionFileNotEmpty=!/nonexistent\nConditionSecurity=selinux\n"
        "[Service]\nExecStart=/bin/echo started\nRestart=always\n");
    REQUIRE(c.bundle);
    auto o = run_sh(file(*c.bundle, "service/run"));
    CHECK(o.status == 0);
    CHECK(o.output == "foo: ConditionPathExists=/nonexistent does not hold: not starting\n");
    // Restart=always, yet a condition that does not hold is not run again.
    CHECK(run_sh(file(*c.bundle, "service/restart"), "exit 0").status == 1);
    CHECK(run_sh(file(*c.bundle, "service/start")).status == 0);
    CHECK(has_problem(c, 5, "unused: ConditionSecurity="));
    auto holds = made(
        "[Unit]\nConditionPathExists=/\nConditionPathExists=|/nonexistent\n"
        "ConditionPathExists=|!/nonexistent\nConditionDirectoryNotEmpty=/\n"
        "ConditionPathExistsGlob=/e*c\n[Service]\nExecStart=/bin/echo started\n");
    CHECK(run_sh(file(holds, "service/run")).output == "started\n");
    auto none = made(
        "[Unit]\nConditionPathExists=|/nonexistent\nConditionPathIsDirectory=|/no\n"
        "[Service]\nExecStart=/bin/echo started\n");
    CHECK(contains(run_sh(file(none, "service/run")).output, "none of"));
    auto asserted = made("[Unit]\nAssertPathExists=/nonexistent\n[Service]\nExecStart=/bin/d\n");
    auto a = run_sh(file(asserted, "service/start"));
    CHECK(a.status == 1);
    CHECK(contains(a.output, "AssertPathExists=/nonexistent does not hold"));
    auto reset = made(
        "[Unit]\nConditionPathExists=/nonexistent\nConditionPathExists=\n"
        "[Service]\nExecStart=/bin/echo started\n");
    CHECK(run_sh(file(reset, "service/run")).output == "started\n");
    auto container =
        made("[Unit]\nConditionVirtualization=!container\n[Service]\nExecStart=/bin/d\n");
    CHECK(contains(file(container, "service/run"), "/run/system-manager/container"));
}

TEST_CASE("specifiers in an instance; an unknown one is an error naming its line") {
    auto b = made("[Service]\nExecStart=/sbin/agetty %I %i %p\n", "getty@tty1.service");
    CHECK(contains(file(b, "service/run"), "\nexec /sbin/agetty tty1 tty1 getty\n"));
    CHECK(b.self.name == "getty@tty1");
    auto bad = convert("[Service]\nExecStart=/bin/d %z\n");
    CHECK(!bad.bundle);
    CHECK(has_problem(bad, 2, "unknown specifier %z", hw::diagnostic::level::error));
}

TEST_CASE("relationships, with systemd's standard targets mapped to heartwood's") {
    auto c = convert(
        "[Unit]\nWants=cache.service\nRequires=db.service\nAfter=db.service "
        "network.target\nBefore=web.service\nConflicts=other.service\n"
        "After=cache.socket x.path\nRequires=network.target\nRequiresMountsFor=/srv/data\n"
        "[Service]\nExecStart=/bin/d\n[Install]\nWantedBy=multi-user.target "
        "graphical.target\nRequiredBy=default.target\nAlias=bar.service\n");
    REQUIRE(c.bundle);
    auto& b = *c.bundle;
    CHECK(has_link(b, "wants", "cache", false));
    CHECK(has_link(b, "requires", "db", false));
    CHECK(has_link(b, "after", "db", false));
    CHECK(has_link(b, "after", "network", true));
    CHECK(has_link(b, "before", "web", false));
    CHECK(has_link(b, "conflicts", "other", false));
    CHECK(has_link(b, "wanted-by", "multi-user", true));
    CHECK(has_link(b, "wanted-by", "workstation", true));
    CHECK(has_link(b, "wanted-by", "normal", true));
    CHECK(has_link(b, "requires", "mount@srv", false));
    CHECK(has_link(b, "after", "mount@srv", false));
    // A requirement on a target that is not there would keep this from ever starting.
    CHECK(has_link(b, "wants", "network", true));
    CHECK(!has_link(b, "requires", "network", true));
    CHECK(has_problem(c, 8, "written as wants/network"));
    CHECK(has_link(b, "after", "cache", false));  // a socket is made by its service's bundle
    CHECK(has_problem(c, 7, "x.path: not supported: path activation; left out"));
    CHECK(has_problem(c, 15, "unused: Alias="));
    // DefaultDependencies=yes: systemd's implicit ones.
    CHECK(has_link(b, "requires", "sysinit", true));
    CHECK(has_link(b, "after", "sysinit", true));
    CHECK(has_link(b, "after", "basic", true));
    CHECK(has_link(b, "before", "shutdown", true));
    CHECK(has_link(b, "stopped-by", "shutdown", true));
    CHECK(std::is_sorted(b.links.begin(), b.links.end()));
}

TEST_CASE("DefaultDependencies=no: only the relationships written") {
    auto b = made(
        "[Unit]\nDefaultDependencies=no\nBefore=sysinit.target\n[Service]\n"
        "ExecStart=/bin/d\n");
    REQUIRE(b.links.size() == 1);
    CHECK(has_link(b, "before", "sysinit", true));
}

TEST_CASE("a target: no programs, after what it wants, stopped by shutdown") {
    auto c = convert(
        "[Unit]\nDescription=My apps\nWants=a.service b.service\nAllowIsolate=yes\n"
        "[Install]\nWantedBy=multi-user.target\n",
        "apps.target");
    REQUIRE(c.bundle);
    CHECK(c.problems.empty());
    auto& b = *c.bundle;
    CHECK(b.self.target);
    CHECK(b.self.name == "apps");
    CHECK(b.files.empty());
    CHECK(has_link(b, "wants", "a", false));
    CHECK(has_link(b, "after", "a", false));
    CHECK(has_link(b, "after", "b", false));
    CHECK(has_link(b, "stopped-by", "shutdown", true));
    CHECK(!has_link(b, "requires", "sysinit", true));
}

TEST_CASE("what cannot be converted is an error for that unit") {
    auto socket = convert("[Socket]\nListenStream=22\n", "ssh.socket");
    CHECK(!socket.bundle);
    CHECK(has_problem(socket, 0, "a socket unit is converted with its service: convert ssh.service",
                      hw::diagnostic::level::error));
    auto path = convert("[Path]\nPathExists=/x\n", "x.path");
    CHECK(has_problem(path, 0, "not supported: path activation", hw::diagnostic::level::error));
    auto templ = convert("[Service]\nExecStart=/bin/d %i\n", "getty@.service");
    CHECK(has_problem(templ, 0, "is a template", hw::diagnostic::level::error));
    auto mount = convert("[Mount]\nWhat=/dev/sda1\n", "srv.mount");
    CHECK(has_problem(mount, 0, "mount units", hw::diagnostic::level::error));
}

TEST_CASE("a unit that heartwood has its own of is skipped, with a warning") {
    auto standard = convert("[Unit]\nDescription=x\n", "multi-user.target");
    CHECK(!standard.bundle);
    REQUIRE(standard.problems.size() == 1);
    CHECK(has_problem(standard, 0, "heartwood has its own multi-user target: not converted"));
    auto udev =
        convert("[Service]\nExecStart=/lib/systemd/systemd-udevd\n", "systemd-udevd.service");
    CHECK(!udev.bundle);
    CHECK(has_problem(udev, 0, "heartwood has its own udev service: not converted"));
}

TEST_CASE("resource control: the bundle's cgroup/ files") {
    auto b = made(
        "[Service]\nExecStart=/bin/d\nMemoryMax=512M\nMemoryHigh=infinity\nMemoryLow=1048576\n"
        "TasksMax=64\nCPUQuota=150%\nCPUWeight=50\nIOWeight=200\nMemoryAccounting=yes\n"
        "MemorySwapMax=0\n");
    CHECK(file(b, "service/cgroup/memory.max") == "512M\n");
    CHECK(file(b, "service/cgroup/memory.high") == "max\n");
    CHECK(file(b, "service/cgroup/memory.low") == "1048576\n");
    CHECK(file(b, "service/cgroup/memory.swap.max") == "0\n");
    CHECK(file(b, "service/cgroup/pids.max") == "64\n");
    CHECK(file(b, "service/cgroup/cpu.max") == "150000 100000\n");
    CHECK(file(b, "service/cgroup/cpu.weight") == "50\n");
    CHECK(file(b, "service/cgroup/io.weight") == "200\n");
    auto c = convert("[Service]\nExecStart=/bin/d\nMemoryAccounting=yes\nTasksMax=infinity\n");
    REQUIRE(c.bundle);
    CHECK(c.problems.empty());  // accounting needs nothing
    CHECK(file(*c.bundle, "service/cgroup/pids.max") == "max\n");
    auto share = convert("[Service]\nExecStart=/bin/d\nTasksMax=15%\nMemoryMax=50%\n");
    REQUIRE(share.bundle);
    CHECK(has_problem(share, 3, "TasksMax=15%: not converted"));
    CHECK(has_problem(share, 4, "MemoryMax=50%: not converted"));
    CHECK(!find_file(*share.bundle, "service/cgroup/pids.max"));
    auto bad = convert("[Service]\nExecStart=/bin/d\nMemoryMax=lots\nCPUWeight=0\nCPUQuota=50\n");
    CHECK(!bad.bundle);
    CHECK(has_problem(bad, 3, "MemoryMax=lots: not a value for memory.max",
                      hw::diagnostic::level::error));
    CHECK(has_problem(bad, 4, "CPUWeight=0", hw::diagnostic::level::error));
    CHECK(has_problem(bad, 5, "CPUQuota=50", hw::diagnostic::level::error));
}

TEST_CASE("every setting that is not used is a warning with its line") {
    auto c = convert(
        "[Unit]\nDescription=x\nOnFailure=y.service\n[Service]\nExecStart=/bin/d\n"
        "PrivateTmp=yes\nCPUShares=100\nFrobnicate=1\n[Socket]\nListenStream=1\n"
        "[X-Vendor]\nAnything=1\n");
    REQUIRE(c.bundle);
    CHECK(has_problem(c, 3, "unused: OnFailure="));
    CHECK(has_problem(c, 6, "unused: PrivateTmp= (sandboxing is not converted)"));
    CHECK(has_problem(c, 7, "unused: CPUShares= (this resource control is not converted)"));
    CHECK(has_problem(c, 8, "unused: Frobnicate="));
    CHECK(has_problem(c, 10, "unused: [Socket] ListenStream="));
    CHECK(c.problems.size() == 5);  // nothing about [X-Vendor], Description= or ExecStart=
    CHECK(c.problems[0].file == "/lib/systemd/system/foo.service");
}

TEST_CASE("unit names in relationships") {
    CHECK(bundle_for_unit("default.target")->name == "normal");
    CHECK(bundle_for_unit("graphical.target")->name == "workstation");
    CHECK(bundle_for_unit("umount.target")->name == "unmount");
    CHECK(bundle_for_unit("getty.target")->name == "multi-user");
    CHECK(bundle_for_unit("systemd-udevd.service")->name == "udev");
    CHECK(bundle_for_unit("rescue.service")->name == "rescue-shell");
    CHECK(!bundle_for_unit("rescue.service")->target);
    CHECK(bundle_for_unit("network-online.target")->name == "network-online");
    CHECK(bundle_for_unit("network-online.target")->target);
    CHECK(!bundle_for_unit("sshd.service")->target);
    CHECK(bundle_for_unit("var-lib-x\\x2dy.mount")->name == "mount@var-lib-x-y");
    CHECK(bundle_for_unit("-.mount")->name == "remount-root");
    CHECK(!bundle_for_unit("dev-sda.device"));
    CHECK(!bundle_for_unit("a\\x2db.service"));  // '\' cannot be in a bundle name
}

TEST_CASE("durations are written in seconds, to the millisecond") {
    using namespace std::chrono_literals;
    CHECK(seconds_text(90s) == "90");
    CHECK(seconds_text(1500ms) == "1.5");
    CHECK(seconds_text(1us) == "0.001");
    CHECK(seconds_text(0s) == "0");
    CHECK(seconds_text(std::chrono::microseconds::max()) == "0");
}

namespace {

// foo.service converted with foo.socket beside it (as convert-systemd-units finds it).
conversion convert_socket(std::string_view service, std::string_view socket) {
    unit_source u{"foo.service", "/lib/systemd/system/foo.service", {}, {}};
    unit_source s{"foo.socket", "/lib/systemd/system/foo.socket", {}, {}};
    hw::diagnostics problems;
    parse_unit(u.path, service, u.assignments, problems);
    parse_unit(s.path, socket, s.assignments, problems);
    REQUIRE(problems.empty());
    u.sockets.push_back(std::move(s));
    return convert_unit(u, standard_bundles);
}

bool has_error(const conversion& c, std::string_view file, unsigned line, std::string_view part) {
    for (const auto& p : c.problems)
        if (p.file == file && p.line == line && p.severity == hw::diagnostic::level::error &&
            contains(p.message, part))
            return true;
    return false;
}

constexpr const char* socket_file = "/lib/systemd/system/foo.socket";

}  // namespace

TEST_CASE("a socket unit: socket-listen makes its sockets before the main command runs") {
    auto c = convert_socket(
        "[Service]\nUser=daemon\nExecStartPre=/bin/prepare\nExecStart=/usr/sbin/food --systemd\n",
        "[Unit]\nDescription=foo's sockets\n[Socket]\nListenStream=%t/%p/control\n"
        "ListenStream=8080\nListenDatagram=[::1]:53\nListenFIFO=/run/foo.fifo\n"
        "SocketMode=0600\nSocketUser=daemon\nBacklog=5\nReusePort=yes\nNoDelay=true\n"
        "KeepAlive=no\nBindIPv6Only=ipv6-only\nReceiveBuffer=64K\nAccept=no\n");
    for (const auto& p : c.problems) INFO(hw::to_string(p));
    REQUIRE(c.bundle);
    CHECK(c.problems.empty());
    std::string run = file(*c.bundle, "service/run");
    // Made as root, before setpriv drops to the user; the start program makes none.
    CHECK(contains(run,
                   "exec socket-listen --name foo.socket --stream /run/foo/control --stream 8080 "
                   "--datagram '[::1]:53' --fifo /run/foo.fifo --reuse-port --no-delay "
                   "--backlog 5 --mode 0600 --owner daemon --receive-buffer 65536 --ipv6-only -- "
                   "setpriv --reuid=daemon"));
    CHECK(contains(run, "-- /usr/sbin/food --systemd\n"));
    CHECK(!contains(file(*c.bundle, "service/start"), "socket-listen"));
    // The sockets are left in place at stop unless RemoveOnStop=yes.
    CHECK(!find_file(*c.bundle, "service/stop"));
}

TEST_CASE("a socket unit: FileDescriptorName=, RemoveOnStop=, and its [Install]") {
    auto c = convert_socket("[Service]\nExecStart=/bin/d\n",
                            "[Socket]\nListenStream=/run/d.sock\nListenSequentialPacket=@d\n"
                            "FileDescriptorName=ctl\nRemoveOnStop=yes\n"
                            "[Install]\nWantedBy=sockets.target\n");
    REQUIRE(c.bundle);
    CHECK(contains(file(*c.bundle, "service/run"),
                   "exec socket-listen --name ctl --stream /run/d.sock --seqpacket @d -- /bin/d"));
    CHECK(contains(file(*c.bundle, "service/stop"), "trap 'rm -rf -- /run/d.sock' EXIT"));
    // sockets.target: multi-user, since the socket is there only while the service runs.
    CHECK(has_link(*c.bundle, "wanted-by", "multi-user", true));

    // The service's own [Install] wins; the socket's is reported unused.
    auto own =
        convert_socket("[Service]\nExecStart=/bin/d\n[Install]\nWantedBy=workstation.target\n",
                       "[Socket]\nListenStream=/run/d.sock\n[Install]\nWantedBy=sockets.target\n");
    REQUIRE(own.bundle);
    CHECK(has_link(*own.bundle, "wanted-by", "workstation", true));
    CHECK(!has_link(*own.bundle, "wanted-by", "multi-user", true));
    bool reported = false;
    for (const auto& p : own.problems)
        reported =
            reported || (p.file == socket_file && p.line == 4 &&
                         contains(p.message, "unused: [Install] WantedBy= of the socket unit"));
    CHECK(reported);
}

TEST_CASE("two socket units for one service: one socket-listen each, chained") {
    unit_source u{"foo.service", "/lib/systemd/system/foo.service", {}, {}};
    unit_source a{"foo.socket", "/lib/systemd/system/foo.socket", {}, {}};
    unit_source b{"foo-ro.socket", "/lib/systemd/system/foo-ro.socket", {}, {}};
    hw::diagnostics problems;
    parse_unit(u.path, "[Service]\nExecStart=/bin/d\n", u.assignments, problems);
    parse_unit(a.path, "[Socket]\nListenStream=/run/foo\n", a.assignments, problems);
    parse_unit(b.path, "[Socket]\nListenStream=/run/foo-ro\nService=foo.service\n",
               b.assignments, problems);
    REQUIRE(problems.empty());
    u.sockets = {a, b};
    auto c = convert_unit(u, standard_bundles);
    REQUIRE(c.bundle);
    CHECK(c.problems.empty());
    CHECK(contains(file(*c.bundle, "service/run"),
                   "exec socket-listen --name foo.socket --stream /run/foo -- socket-listen "
                   "--name foo-ro.socket --stream /run/foo-ro -- /bin/d\n"));
}

TEST_CASE("a socket unit that cannot be converted is an error naming its file and line") {
    const char* service = "[Service]\nExecStart=/bin/d\n";
    CHECK(has_error(convert_socket(service, "[Socket]\nListenStream=/run/d\nAccept=yes\n"),
                    socket_file, 3, "Accept=yes: not supported"));
    CHECK(has_error(convert_socket(service, "[Socket]\nListenNetlink=route 1361\n"), socket_file, 2,
                    "ListenNetlink=: not supported"));
    CHECK(has_error(convert_socket(service, "[Socket]\nListenStream=1.2.3:80\n"), socket_file, 2,
                    "ListenStream=1.2.3:80: 1.2.3:80: not an IPv4 address"));
    CHECK(has_error(convert_socket(service, "[Socket]\nListenStream=/run/d\nSocketMode=0999\n"),
                    socket_file, 3, "SocketMode=0999: --mode=0999: not an octal mode"));
    CHECK(has_error(convert_socket(service, "[Socket]\nListenStream=/run/d\nBindIPv6Only=maybe\n"),
                    socket_file, 3, "not default, both or ipv6-only"));
    CHECK(has_error(convert_socket(service, "[Socket]\nListenStream=/run/d\nService=bar.service\n"),
                    socket_file, 3, "a socket for another service"));
    CHECK(has_error(convert_socket(service, "[Socket]\nBacklog=5\n"), socket_file, 0,
                    "nothing to listen on"));
    // Whatever the service's own warnings (here '@'): the socket still needs an address.
    CHECK(has_error(convert_socket("[Service]\nExecStart=@/bin/d d\n", "[Socket]\nBacklog=5\n"),
                    socket_file, 0, "nothing to listen on"));
    CHECK(has_error(convert_socket("[Service]\nType=oneshot\nExecStart=/bin/d\n",
                                   "[Socket]\nListenStream=/run/d\n"),
                    socket_file, 0, "a socket unit for a Type=oneshot service"));
    auto bad = convert_socket(service, "[Socket]\nListenStream=/run/d\nFileDescriptorName=a:b\n");
    CHECK(!bad.bundle);
    CHECK(has_error(bad, socket_file, 3, "without ':'"));
}

TEST_CASE("a timer unit: a service that runs timer-wait, which starts the timer's unit") {
    auto c = convert(
        "[Unit]\nDescription=Daily work\n[Timer]\nOnCalendar=daily\nOnCalendar=Mon..Fri 09:00\n"
        "OnBootSec=15min\nOnUnitActiveSec=1d\nRandomizedDelaySec=30\nPersistent=yes\n"
        "AccuracySec=1h\n[Install]\nWantedBy=timers.target\n",
        "foo.timer");
    REQUIRE(c.bundle);
    CHECK(c.bundle->self == bundle_ref{"foo.timer", false});
    std::string run = file(*c.bundle, "service/run");
    CHECK(contains(run, "mkdir -p /var/lib/heartwood/timers\n"));
    CHECK(contains(run,
                   "exec timer-wait --on-calendar daily --on-calendar 'Mon..Fri 09:00' "
                   "--on-boot 900 --on-unit-active 86400 --randomized-delay 30 --persistent "
                   "/var/lib/heartwood/timers/foo.timer -- system-control start foo.service\n"));
    // timers.target: multi-user, from which the timer runs; systemd's default dependencies.
    CHECK(has_link(*c.bundle, "wanted-by", "multi-user", true));
    CHECK(has_link(*c.bundle, "requires", "sysinit", true));
    CHECK(has_link(*c.bundle, "stopped-by", "shutdown", true));
    CHECK(has_problem(c, 0, "there is no bundle foo (yet) for the timer to start"));
    CHECK(has_problem(c, 10, "unused: [Timer] AccuracySec="));

    // Unit= names what it starts; Persistent= means nothing without a calendar event.
    auto other = made("[Timer]\nOnActiveSec=5\nUnit=db.service\nPersistent=yes\n", "x.timer");
    std::string other_run = file(other, "service/run");
    CHECK(
        contains(other_run, "exec timer-wait --on-active 5 -- system-control start db.service\n"));
    CHECK(!contains(other_run, "--persistent"));
}

TEST_CASE("a timer unit's conditions: checked when it starts, and it stays stopped") {
    auto b = made("[Unit]\nConditionPathExists=/nonexistent\n[Timer]\nOnBootSec=1\n", "x.timer");
    auto run = run_sh(file(b, "service/run"));
    CHECK(run.status == 0);
    CHECK(contains(run.output, "ConditionPathExists=/nonexistent does not hold: not starting"));
    auto restart = run_sh(file(b, "service/restart"), "exit 0");
    CHECK(restart.status == 1);  // refused: the timer stays stopped
    auto holds = made("[Unit]\nConditionPathExists=/\n[Timer]\nOnBootSec=1\n", "x.timer");
    CHECK(run_sh(file(holds, "service/restart"), "exit 0").status == 0);
}

TEST_CASE("a timer unit that cannot work is an error naming its line") {
    auto bad_event = convert("[Timer]\nOnCalendar=*-13-01\n", "x.timer");
    CHECK(!bad_event.bundle);
    CHECK(has_problem(bad_event, 2, "OnCalendar=*-13-01: month '13': values from 1 to 12",
                      hw::diagnostic::level::error));
    auto never = convert("[Timer]\nAccuracySec=1h\n", "x.timer");
    CHECK(has_problem(never, 0, "the timer would never run", hw::diagnostic::level::error));
    // A bad deadline is its own error, not also "never run"; a bad delay does not hide that.
    auto bad_only = convert("[Timer]\nOnBootSec=soon\n", "x.timer");
    CHECK(!has_problem(bad_only, 0, "the timer would never run", hw::diagnostic::level::error));
    auto bad_delay = convert("[Timer]\nRandomizedDelaySec=soon\n", "x.timer");
    CHECK(has_problem(bad_delay, 0, "the timer would never run", hw::diagnostic::level::error));
    auto bad_time = convert("[Timer]\nOnBootSec=soon\n", "x.timer");
    CHECK(
        has_problem(bad_time, 2, "OnBootSec=soon: not a time span", hw::diagnostic::level::error));
    auto bad_unit = convert("[Timer]\nOnBootSec=1\nUnit=x.path\n", "x.timer");
    CHECK(has_problem(bad_unit, 3, "Unit=x.path: not supported: path activation",
                      hw::diagnostic::level::error));
}
