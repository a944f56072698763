#include "fd_store.hpp"

#include "common/fd_passing.hpp"

namespace hw::sysmgr {

std::optional<store_command> parse_store_command(std::string_view text) {
    using k = store_command::kind;
    for (auto [prefix, what] : {std::pair{std::string_view("STORE "), k::store},
                                std::pair{std::string_view("REMOVE "), k::remove}}) {
        if (!text.starts_with(prefix)) continue;
        std::string_view name = text.substr(prefix.size());
        if (!valid_fd_store_name(name)) return std::nullopt;
        return store_command{what, std::string(name)};
    }
    return std::nullopt;
}

result<void> fd_store::store(const std::string& name, unique_fd fd) {
    auto it = entries_.find(name);
    if (it != entries_.end()) {
        it->second = std::move(fd);
        return {};
    }
    if (entries_.size() >= max_entries) return fail(std::errc::no_space_on_device);
    entries_.emplace(name, std::move(fd));
    return {};
}

void fd_store::remove(const std::string& name) noexcept {
    auto it = entries_.find(name);
    if (it != entries_.end()) entries_.erase(it);
}

}  // namespace hw::sysmgr
