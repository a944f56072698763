#include "shell_word.hpp"

namespace hw::ctl {

namespace {

bool plain(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
}

// "NAME=..." at the start of a command is an assignment, not a word.
bool looks_like_assignment(std::string_view text) {
    auto eq = text.find('=');
    if (eq == 0 || eq == std::string_view::npos) return false;
    for (char c : text.substr(0, eq))
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9')))
            return false;
    return true;
}

std::string single_quoted(std::string_view text) {
    std::string out = "'";
    for (char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

}  // namespace

void shell_word::add(kind what, std::string_view value) {
    if (what == kind::text && !pieces.empty() && pieces.back().what == kind::text)
        pieces.back().value += value;
    else
        pieces.push_back({what, std::string(value)});
}

bool shell_word::is_literal() const {
    for (const auto& p : pieces)
        if (p.what != kind::text) return false;
    return true;
}

std::string shell_word::literal_text() const {
    std::string out;
    for (const auto& p : pieces)
        if (p.what == kind::text) out += p.value;
    return out;
}

std::string sh_quote(std::string_view text) {
    bool safe = !text.empty();
    for (char c : text) safe = safe && plain(c);
    return safe ? std::string(text) : single_quoted(text);
}

std::string render(const shell_word& word) {
    if (word.split && word.pieces.size() == 1) return "${" + word.pieces.front().value + "}";
    std::string out;
    for (const auto& p : word.pieces) {
        switch (p.what) {
            case shell_word::kind::text:
                out += looks_like_assignment(p.value) ? single_quoted(p.value) : sh_quote(p.value);
                break;
            case shell_word::kind::variable:
                out += "\"${" + p.value + "}\"";
                break;
            case shell_word::kind::command:
                out += "\"$(" + p.value + ")\"";
                break;
        }
    }
    return out.empty() ? "''" : out;
}

std::string render(const std::vector<shell_word>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += render(w);
    }
    return out;
}

}  // namespace hw::ctl
