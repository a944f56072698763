// diagnostic: one problem found while reading or checking bundles.
//
// Readers never stop at the first problem: they return what they could read plus a list of
// these. A diagnostic names the file it is about (a bundle directory, a relationship link, a
// settings file) and, for text files, the 1-based line; `message` is the reason, phrased so that
// "<file>: <message>" reads as a sentence ("dangling link to ../../x").
#pragma once

#include <string>
#include <vector>

namespace hw {

struct diagnostic {
    // note: not a problem, only worth knowing (`check` shows it, jobs only with --verbose).
    enum class level : unsigned char { warning, error, note };
    level severity = level::error;
    std::string file;
    unsigned line = 0;  // 0: not about one line
    std::string message;
};

using diagnostics = std::vector<diagnostic>;

inline bool is_problem(const diagnostic& d) {
    return d.severity != diagnostic::level::note;
}

// "file:line: message" (or "file: message" when line is 0).
inline std::string to_string(const diagnostic& d) {
    std::string out = d.file;
    if (d.line) out += ':' + std::to_string(d.line);
    out += ": ";
    out += d.message;
    return out;
}

}  // namespace hw
