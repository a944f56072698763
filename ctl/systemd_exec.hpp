// systemd_exec: the parts of a systemd unit that become sh text in a converted bundle's
// programs: the settings as asked for by the converter, specifiers (%n, %i, %H, ...), command
// lines (ExecStart= and friends) and environment assignments. Pure; systemd_convert.cpp puts the
// pieces together.
#pragma once

#include <expected>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "shell_word.hpp"
#include "systemd_unit.hpp"

namespace hw::ctl::systemd {

// The assignments of one unit, asked for by section and key. It remembers what was asked for,
// so that what never was can be reported as unused.
class settings {
  public:
    explicit settings(const std::vector<assignment>& all) : all_(all), used_(all.size()) {}

    // Every value of a list setting; an empty value drops the values before it.
    std::vector<const assignment*> list(std::string_view section, std::string_view key);
    // A single setting: its last value; nullptr when unset, or reset by an empty value.
    const assignment* last(std::string_view section, std::string_view key);
    // The assignments of `section` whose key starts with `prefix` (Condition...), in order.
    std::vector<const assignment*> with_prefix(std::string_view section, std::string_view prefix);
    // What was never asked for, in order.
    std::vector<const assignment*> unused() const;

  private:
    const std::vector<assignment>& all_;
    std::vector<bool> used_;
};

// The specifiers of one unit (systemd.unit(5), "Specifiers"), for a system unit: most are known
// now (%n %N %p %P %i %I %j %J %f %t %S %C %L %E %T %V %h %s %u %U %g %G %y %Y %%); those that
// depend on the machine (%H %l %m %b %v %o %w %B %W %A %M) become commands run at start time.
class specifiers {
  public:
    specifiers(unit_name name, std::string source_path);
    // Appends `text` to `word` with its specifiers expanded; an error message for an unknown
    // one.
    std::expected<void, std::string> expand(std::string_view text, shell_word& word) const;
    // The expansion where only text will do (a unit name, a link): an error for the specifiers
    // known only at start time.
    std::expected<std::string, std::string> expand_text(std::string_view text) const;

  private:
    std::optional<std::string> value_of(char specifier) const;  // nullopt: not known now

    unit_name name_;
    std::string source_path_;
};

// One command of an Exec...= setting.
struct command {
    bool ignore_failure = false;    // '-': a failure counts as success
    bool full_privileges = false;   // '+': without User=, Group= and NoNewPrivileges=
    std::vector<shell_word> words;  // the program, then its arguments
};
struct parsed_commands {
    std::vector<command> commands;      // several when separated by a lone ';'
    std::vector<std::string> warnings;  // what could not be kept ('@' and its argv[0])
};
// Parses one value of ExecStart= and friends (systemd.service(5), "Command lines"): the prefixes
// - @ : + ! !!, words as split_words() makes them, specifiers; then, unless ':', the variable
// references: "$$" is '$', "${NAME}" the value as part of a word, a lone "$NAME" word the value
// split at blanks. The program itself is taken literally (systemd does not expand it).
std::expected<parsed_commands, std::string> parse_command_line(std::string_view value,
                                                               const specifiers& spec);

// One assignment of Environment=: NAME and its value.
struct environment_variable {
    std::string name;
    shell_word value;
};
// The assignments of one Environment= value (quoted words "NAME=VALUE"; no variable references);
// words that are not assignments are error messages.
std::expected<std::vector<environment_variable>, std::string> parse_environment(
    std::string_view value, const specifiers& spec);

// A name the shell takes as a variable name.
bool valid_variable_name(std::string_view name);

}  // namespace hw::ctl::systemd
