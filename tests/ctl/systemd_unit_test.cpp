// The systemd unit file syntax (ctl/systemd_unit.hpp) and the command-line and specifier parts
// of the converter (ctl/systemd_exec.hpp), ctl/shell_word.hpp's quoting.
#include "ctl/systemd_unit.hpp"

#include <doctest/doctest.h>

#include <ostream>

#include "ctl/shell_word.hpp"
#include "ctl/systemd_exec.hpp"

using namespace hw::ctl::systemd;
using namespace std::chrono_literals;

namespace {

std::vector<assignment> parse(std::string_view text, hw::diagnostics& problems) {
    std::vector<assignment> out;
    parse_unit("u.service", text, out, problems);
    return out;
}

std::vector<std::string> words(std::string_view text) {
    auto w = split_words(text);
    REQUIRE(w);
    return *w;
}

specifiers instance_specifiers() {
    return specifiers(*parse_unit_name("getty@tty\\x2d1.service"), "/lib/systemd/getty@.service");
}

std::string expanded(std::string_view text) {
    auto r = instance_specifiers().expand_text(text);
    REQUIRE(r);
    return *r;
}

// The commands of one Exec line, rendered as sh.
std::vector<std::string> rendered(std::string_view line) {
    auto parsed = parse_command_line(line, instance_specifiers());
    REQUIRE(parsed);
    std::vector<std::string> out;
    for (const auto& c : parsed->commands) out.push_back(hw::ctl::render(c.words));
    return out;
}

}  // namespace

TEST_CASE("sections, assignments, comments and blanks") {
    hw::diagnostics problems;
    auto a = parse(
        "# comment\n; other\n[Unit]\n  Description = A  thing  \n\n[Service]\n"
        "ExecStart=/bin/true\nEnvironment=\n",
        problems);
    CHECK(problems.empty());
    REQUIRE(a.size() == 3);
    CHECK(a[0].section == "Unit");
    CHECK(a[0].key == "Description");
    CHECK(a[0].value == "A  thing");
    CHECK(a[0].line == 4);
    CHECK(a[1].section == "Service");
    CHECK(a[1].line == 7);
    CHECK(a[2].key == "Environment");
    CHECK(a[2].value.empty());  // kept: it resets the list
    CHECK(a[2].file == "u.service");
}

TEST_CASE("a backslash at the end continues the line; comment lines in between are skipped") {
    hw::diagnostics problems;
    auto a = parse("[Service]\nExecStart=/bin/echo one \\\n# a comment\n  two\\\n three\nX=y\n",
                   problems);
    CHECK(problems.empty());
    REQUIRE(a.size() == 2);
    CHECK(a[0].value == "/bin/echo one  two three");
    CHECK(a[0].line == 2);
    CHECK(a[1].line == 6);
}

TEST_CASE("syntax errors name their line") {
    hw::diagnostics problems;
    auto a = parse("Early=1\n[Unit]\nno equals sign\n[Broken\n=value\nGood=1\n", problems);
    REQUIRE(problems.size() == 4);
    CHECK(problems[0].line == 1);
    CHECK(problems[0].message.find("before any [section]") != std::string::npos);
    CHECK(problems[1].line == 3);
    CHECK(problems[1].message.find("no '='") != std::string::npos);
    CHECK(problems[2].line == 4);
    CHECK(problems[2].message.find("section header") != std::string::npos);
    CHECK(problems[3].line == 5);
    CHECK(problems[0].file == "u.service");
    REQUIRE(a.size() == 1);
    CHECK(a[0].key == "Good");
}

TEST_CASE("drop-ins are appended after the unit, so that their values come later") {
    hw::diagnostics problems;
    std::vector<assignment> all;
    parse_unit("u.service", "[Service]\nUser=a\n", all, problems);
    parse_unit("u.service.d/10-x.conf", "[Service]\nUser=b\n", all, problems);
    hw::ctl::systemd::settings s(all);
    REQUIRE(s.last("Service", "User"));
    CHECK(s.last("Service", "User")->value == "b");
    CHECK(s.last("Service", "User")->file == "u.service.d/10-x.conf");
}

TEST_CASE("an empty value resets a list; a single setting takes the last value") {
    hw::diagnostics problems;
    std::vector<assignment> all;
    parse_unit("u",
               "[Service]\nEnvironment=A=1\nEnvironment=B=2\nEnvironment=\nEnvironment=C=3\n"
               "Type=simple\nType=oneshot\nUser=x\nUser=\nOther=1\n",
               all, problems);
    hw::ctl::systemd::settings s(all);
    auto env = s.list("Service", "Environment");
    REQUIRE(env.size() == 1);
    CHECK(env[0]->value == "C=3");
    CHECK(s.last("Service", "Type")->value == "oneshot");
    CHECK(s.last("Service", "User") == nullptr);
    auto unused = s.unused();
    REQUIRE(unused.size() == 1);
    CHECK(unused[0]->key == "Other");
}

TEST_CASE("booleans") {
    for (const char* yes : {"yes", "Yes", "true", "on", "1", "y", "t"})
        CHECK(parse_boolean(yes) == true);
    for (const char* no : {"no", "FALSE", "off", "0", "n", "f"}) CHECK(parse_boolean(no) == false);
    CHECK(!parse_boolean("maybe"));
    CHECK(!parse_boolean(""));
}

TEST_CASE("time spans") {
    CHECK(parse_timespan("90") == 90s);
    CHECK(parse_timespan("1min 30s") == 90s);
    CHECK(parse_timespan("1min30s") == 90s);
    CHECK(parse_timespan("500ms") == 500ms);
    CHECK(parse_timespan("2.5h") == 9000s);
    CHECK(parse_timespan("1h 2min 3s 4ms 5us") == 3723004005us);
    CHECK(parse_timespan("1 d") == 86400s);
    CHECK(parse_timespan("infinity") == std::chrono::microseconds::max());
    CHECK(parse_timespan("5", 1ms) == 5ms);
    CHECK(!parse_timespan(""));
    CHECK(!parse_timespan("5 parsecs"));
    CHECK(!parse_timespan("-1"));
    CHECK(!parse_timespan("1..5s"));
}

TEST_CASE("words: blanks separate, quotes group, escapes are decoded") {
    CHECK(words("a  b\tc") == std::vector<std::string>{"a", "b", "c"});
    CHECK(words("\"a b\" 'c d'") == std::vector<std::string>{"a b", "c d"});
    CHECK(words("x\"a b\"y") == std::vector<std::string>{"xa by"});
    CHECK(words("'' \"\"") == std::vector<std::string>{"", ""});
    CHECK(words("a\\ b") == std::vector<std::string>{"a b"});
    CHECK(words("\"say \\\"hi\\\"\" \\x41\\101\\n") ==
          std::vector<std::string>{"say \"hi\"", "AA\n"});
    CHECK(words("'it\\'s'") == std::vector<std::string>{"it's"});
    CHECK(words("\\u00e9") == std::vector<std::string>{"\xc3\xa9"});
    CHECK(words("find . \\;") == std::vector<std::string>{"find", ".", "\\;"});
    CHECK(!split_words("\"unclosed"));
    CHECK(!split_words("'unclosed"));
}

TEST_CASE("unit names and their escapes") {
    auto n = parse_unit_name("getty@tty1.service");
    REQUIRE(n);
    CHECK(n->prefix == "getty");
    CHECK(n->instance == "tty1");
    CHECK(n->suffix == "service");
    CHECK(n->templated);
    CHECK(n->full() == "getty@tty1.service");
    auto t = parse_unit_name("getty@.service");
    REQUIRE(t);
    CHECK(t->templated);
    CHECK(t->instance.empty());
    CHECK(parse_unit_name("sshd.service")->prefix == "sshd");
    CHECK(!parse_unit_name("noservice"));
    CHECK(!parse_unit_name("a@b@c.service"));
    CHECK(!parse_unit_name("sp ace.service"));
    CHECK(unescape_name("a\\x2db") == "a-b");
    CHECK(unescape_path("var-lib-foo") == "/var/lib/foo");
    CHECK(unescape_path("-") == "/");
    CHECK(unescape_path("dev-disk-by\\x2dlabel-x") == "/dev/disk/by-label/x");
}

TEST_CASE("specifiers of an instance") {
    CHECK(expanded("%n|%N|%p|%P|%i|%I|%j|%f") ==
          "getty@tty\\x2d1.service|getty@tty\\x2d1|getty|getty|tty\\x2d1|tty-1|getty|/tty-1");
    CHECK(expanded("%t %S %C %L %E %T %V") ==
          "/run /var/lib /var/cache /var/log /etc /tmp /var/tmp");
    CHECK(expanded("%u %U %g %G %h %s 100%%") == "root 0 root 0 /root /bin/sh 100%");
    CHECK(expanded("%y %Y") == "/lib/systemd/getty@.service /lib/systemd");
    CHECK(!instance_specifiers().expand_text("%z"));
    CHECK(instance_specifiers().expand_text("%z").error() == "unknown specifier %z");
    CHECK(!instance_specifiers().expand_text("50%"));
    // The host name is known only when the service starts: a command, not text.
    CHECK(!instance_specifiers().expand_text("%H"));
    hw::ctl::shell_word w;
    REQUIRE(instance_specifiers().expand("host-%H", w));
    CHECK(hw::ctl::render(w) == "host-\"$(uname -n)\"");
}

TEST_CASE("command lines: prefixes, quoting, variables, separators") {
    CHECK(rendered("/usr/sbin/sshd -D") == std::vector<std::string>{"/usr/sbin/sshd -D"});
    CHECK(rendered("/bin/echo 'a b' \"it's\" x=y") ==
          std::vector<std::string>{"/bin/echo 'a b' 'it'\\''s' 'x=y'"});
    CHECK(rendered("/bin/echo $$HOME ${PORT} --p=${PORT}x $ARGS $1") ==
          std::vector<std::string>{"/bin/echo '$HOME' \"${PORT}\" --p=\"${PORT}\"x ${ARGS} '$1'"});
    CHECK(rendered(":/bin/echo ${PORT} $ARGS") ==
          std::vector<std::string>{"/bin/echo '${PORT}' '$ARGS'"});
    CHECK(rendered("/bin/a 1 ; /bin/b \\; 2") ==
          std::vector<std::string>{"/bin/a 1", "/bin/b ';' 2"});
    CHECK(rendered("/bin/echo %i") == std::vector<std::string>{"/bin/echo 'tty\\x2d1'"});
    auto p = parse_command_line("-+/bin/false x", instance_specifiers());
    REQUIRE(p);
    CHECK(p->commands[0].ignore_failure);
    CHECK(p->commands[0].full_privileges);
    CHECK(hw::ctl::render(p->commands[0].words) == "/bin/false x");
    auto at = parse_command_line("@/bin/daemon my-daemon --flag", instance_specifiers());
    REQUIRE(at);
    CHECK(hw::ctl::render(at->commands[0].words) == "/bin/daemon --flag");
    REQUIRE(at->warnings.size() == 1);
    CHECK(at->warnings[0].find("my-daemon") != std::string::npos);
    CHECK(!parse_command_line("-", instance_specifiers()));
    CHECK(!parse_command_line("/bin/a ; ; /bin/b", instance_specifiers()));
    CHECK(!parse_command_line("/bin/echo 'open", instance_specifiers()));
}

TEST_CASE("environment assignments") {
    auto v = parse_environment("A=1 \"B=two words\" C= 'D=it''s' E=%i", instance_specifiers());
    REQUIRE(v);
    REQUIRE(v->size() == 5);
    CHECK((*v)[0].name == "A");
    CHECK(hw::ctl::render((*v)[1].value) == "'two words'");
    CHECK(hw::ctl::render((*v)[2].value) == "''");
    CHECK(hw::ctl::render((*v)[3].value) == "its");
    CHECK(hw::ctl::render((*v)[4].value) == "'tty\\x2d1'");
    CHECK(!parse_environment("novalue", instance_specifiers()));
    CHECK(!parse_environment("1X=2", instance_specifiers()));
}

TEST_CASE("sh quoting leaves plain words alone and quotes the rest") {
    using hw::ctl::sh_quote;
    CHECK(sh_quote("/usr/bin/x") == "/usr/bin/x");
    CHECK(sh_quote("--a=b,c:d@e%f+g") == "--a=b,c:d@e%f+g");
    CHECK(sh_quote("") == "''");
    CHECK(sh_quote("a b") == "'a b'");
    CHECK(sh_quote("it's") == "'it'\\''s'");
    CHECK(sh_quote("~x") == "'~x'");
    CHECK(sh_quote("$x") == "'$x'");
    CHECK(sh_quote("a*") == "'a*'");
}
