#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <ostream>

#include "daemon/fd_store.hpp"

using namespace hw::sysmgr;

TEST_CASE("STORE and REMOVE parse; anything else is rejected") {
    auto s = parse_store_command("STORE pipe:foo");
    REQUIRE(s);
    CHECK(s->what == store_command::kind::store);
    CHECK(s->name == "pipe:foo");
    auto r = parse_store_command("REMOVE pipe:foo");
    REQUIRE(r);
    CHECK(r->what == store_command::kind::remove);
    CHECK(!parse_store_command("STORE "));
    CHECK(!parse_store_command("store x"));
    CHECK(!parse_store_command("FD x"));
    CHECK(!parse_store_command("STORE a b"));
}

TEST_CASE("the store replaces by name and refuses to grow past its bound") {
    fd_store store;
    auto null = [] { return hw::unique_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)); };
    REQUIRE(store.store("a", null()));
    REQUIRE(store.store("a", null()));
    CHECK(store.size() == 1);
    for (std::size_t i = 1; i < fd_store::max_entries; ++i) {
        REQUIRE(store.store("n" + std::to_string(i), null()));
    }
    CHECK(store.size() == fd_store::max_entries);
    auto over = store.store("one-too-many", null());
    REQUIRE(!over);
    CHECK(over.error() == std::errc::no_space_on_device);
    store.remove("a");
    CHECK(store.store("one-too-many", null()));
}
