// systemd_unit: the syntax of systemd unit files, as `convert-systemd-units` reads them
// (systemd.syntax(7), systemd.unit(5)). Pure: text in, values out, no I/O.
//
// A unit is read into one ordered list of assignments: the unit file, then its drop-ins in the
// order they are given, each assignment with the file and line it came from. Which settings are
// lists (where an empty value resets what came before) and which are single values (where the
// last one counts) is the converter's business (systemd_convert.hpp).
//
// Lines: "[Section]", "Key=Value" (blanks around '=' and at both ends are dropped), empty lines,
// comments starting with '#' or ';'. A '\' at the end of a line joins the next line to it in
// place of the backslash, as a space; comment lines in between are skipped. A line that is none
// of these, or an assignment before any section, is an error naming file:line.
#pragma once

#include <chrono>
#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/diagnostic.hpp"

namespace hw::ctl::systemd {

struct assignment {
    std::string section;  // "Service"
    std::string key;      // "ExecStart"
    std::string value;    // "" resets a list setting
    std::string file;
    unsigned line = 0;  // of the first line, for a continued assignment
};

// Appends the assignments of one file's text to `out`; problems get file:line.
void parse_unit(std::string_view file, std::string_view text, std::vector<assignment>& out,
                diagnostics& problems);

// yes/no, true/false, on/off, 1/0, y/n, t/f (any case); nullopt otherwise.
std::optional<bool> parse_boolean(std::string_view text);

// A time span: "90", "1min 30s", "500ms", "2.5h", "1h30min" (systemd.time(7): usec us ms s sec
// m min h hr d w M y and their long names); a plain number is in `unit`. "infinity" is
// microseconds::max(). nullopt: not a time span.
std::optional<std::chrono::microseconds> parse_timespan(
    std::string_view text, std::chrono::microseconds unit = std::chrono::seconds(1));

// Splits `text` into words (systemd.syntax(7), "Quoting"): words are separated by blanks;
// single and double quotes group blanks into a word and may start anywhere in it; C escapes
// (\n \t \\ \" \' \s \xHH \NNN \uHHHH ...) are decoded inside and outside quotes, as is a
// backslash before a blank; an unknown escape is kept as written (so "\;" stays "\;"). An
// unclosed quote is an error.
std::expected<std::vector<std::string>, std::string> split_words(std::string_view text);

// A unit name taken apart: "getty@tty1.service" is prefix "getty", instance "tty1", suffix
// "service"; "getty@.service" is a template (instance empty).
struct unit_name {
    std::string prefix;
    std::string instance;
    std::string suffix;
    bool templated = false;  // has an '@'

    std::string full() const;  // the name again
};
// nullopt when `text` is not a unit name: no suffix, an empty prefix, characters outside
// [A-Za-z0-9:_.\@-], more than one '@'.
std::optional<unit_name> parse_unit_name(std::string_view text);

// Undoes systemd's name escaping: "\xNN" is the byte NN (for %I, %P).
std::string unescape_name(std::string_view text);
// The path a name stands for: '-' is '/', "\xNN" the byte, a leading '/' is added ("-" is "/",
// "var-lib" is "/var/lib"; for %f and mount unit names).
std::string unescape_path(std::string_view text);

}  // namespace hw::ctl::systemd
