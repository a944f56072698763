// fd_store: named descriptors that PID 1 keeps for the service-manager across its restarts.
//
// The service-manager parks descriptors here (its services' log pipes, above all) so that
// neither a `kill -9` of the service-manager nor a `kill -9 -1` loses the pipes or the data in
// them. Bounded: at most max_entries descriptors; a STORE past that is refused and logged.
//
// Wire protocol on an AF_UNIX SOCK_SEQPACKET socketpair (one message per record, text, no NUL):
//   service-manager -> PID 1:  "STORE <name>" + one fd (SCM_RIGHTS); "REMOVE <name>"
//   PID 1 -> service-manager:  after each start, "FD <name>" + one fd per entry, then "END"
// Names are 1..200 bytes of [A-Za-z0-9@._:/+-] (valid_fd_store_name); messages travel with
// common/fd_passing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace hw::sysmgr {

struct store_command {
    enum class kind : unsigned char { store, remove } what;
    std::string name;
};
// Parses a message from the service-manager; nullopt if it is not a valid command.
std::optional<store_command> parse_store_command(std::string_view text);

class fd_store {
public:
    static constexpr std::size_t max_entries = 16384;

    // Replaces any descriptor stored under `name`. Fails with ENOSPC when full.
    result<void> store(const std::string& name, unique_fd fd);
    void remove(const std::string& name) noexcept;
    void clear() noexcept { entries_.clear(); }
    std::size_t size() const noexcept { return entries_.size(); }
    const std::map<std::string, unique_fd, std::less<>>& entries() const noexcept {
        return entries_;
    }

private:
    std::map<std::string, unique_fd, std::less<>> entries_;
};

}  // namespace hw::sysmgr
