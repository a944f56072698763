// shell_word: words of the POSIX sh scripts that convert-systemd-units writes (they must mean
// the same under dash and busybox sh). A word is built from pieces: literal text, the value of
// a variable, the output of a command; rendering quotes each piece so that the shell makes
// exactly one word of it, whatever bytes the text holds. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace hw::ctl {

struct shell_word {
    enum class kind : unsigned char {
        text,      // literal bytes
        variable,  // "${NAME}"
        command,   // "$(COMMAND)": COMMAND is sh text, written as is
    };
    struct piece {
        kind what;
        std::string value;
    };
    std::vector<piece> pieces;
    // A lone "$NAME" that the shell splits into zero or more words (at blanks; the script
    // says `set -f` so that no word is taken as a file name pattern).
    bool split = false;

    static shell_word literal(std::string_view text) { return {{{kind::text, std::string(text)}}}; }
    void add(kind what, std::string_view value);  // merges adjacent text
    bool is_literal() const;                      // no variable, no command
    std::string literal_text() const;             // the text pieces, joined
};

// `text` as one sh word: as is when it holds only characters that sh never interprets
// (letters, digits, and _ @ % + = : , . / -), else in single quotes ('\'' for a quote). "" is ''.
std::string sh_quote(std::string_view text);

// The word as sh source. A word whose text could be read as an assignment (NAME=...) when it
// is the first word of a command is quoted.
std::string render(const shell_word& word);
// Words separated by spaces.
std::string render(const std::vector<shell_word>& words);

}  // namespace hw::ctl
