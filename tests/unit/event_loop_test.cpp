#include "common/event_loop.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <ostream>

#include "common/unique_fd.hpp"

using namespace std::chrono_literals;

TEST_CASE("a readable pipe completes its poll and the callback sees a positive mask") {
    auto loop = hw::event_loop::create(8).value();
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    int seen = 0;
    REQUIRE(loop->poll_readable(r.get(), [&](int res) noexcept { seen = res; }));
    REQUIRE(::write(w.get(), "x", 1) == 1);
    CHECK(loop->run_once());
    CHECK(seen > 0);
    CHECK(loop->pending() == 0);
}

TEST_CASE("timers fire in order of their delay, not of their submission") {
    auto loop = hw::event_loop::create(8).value();
    std::vector<int> order;
    REQUIRE(loop->after(30ms, [&](int) noexcept { order.push_back(30); }));
    REQUIRE(loop->after(1ms, [&](int) noexcept { order.push_back(1); }));
    while (order.size() < 2) REQUIRE(loop->run_once());
    CHECK(order == std::vector<int>{1, 30});
}

TEST_CASE("a cancelled operation never runs its callback and frees its slot") {
    auto loop = hw::event_loop::create(2).value();
    bool cancelled_ran = false, other_ran = false;
    auto id = loop->after(10ms, [&](int) noexcept { cancelled_ran = true; }).value();
    loop->cancel(id);
    CHECK(!id);
    REQUIRE(loop->after(20ms, [&](int) noexcept { other_ran = true; }));
    while (!other_ran) REQUIRE(loop->run_once());
    CHECK(!cancelled_ran);
    CHECK(loop->pending() == 0);
}

TEST_CASE("the loop refuses operations past its capacity") {
    auto loop = hw::event_loop::create(2).value();
    auto a = loop->after(1s, [](int) noexcept {});
    auto b = loop->after(1s, [](int) noexcept {});
    auto c = loop->after(1s, [](int) noexcept {});
    CHECK(a);
    CHECK(b);
    REQUIRE(!c);
    CHECK(c.error() == std::errc::resource_unavailable_try_again);
}

TEST_CASE("a stale id is ignored by cancel once its slot was reused") {
    auto loop = hw::event_loop::create(1).value();
    int fired = 0;
    auto first = loop->after(0ms, [&](int) noexcept { ++fired; }).value();
    REQUIRE(loop->run_once());
    REQUIRE(fired == 1);
    auto second = loop->after(5ms, [&](int) noexcept { fired += 10; }).value();
    CHECK(second.slot == first.slot);
    loop->cancel(first);  // stale: must not cancel `second`
    while (fired < 11) REQUIRE(loop->run_once());
    CHECK(fired == 11);
}

TEST_CASE("a full pipe becomes writable once the reader drains it") {
    auto loop = hw::event_loop::create(8).value();
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    char block[4096] = {};
    while (::write(w.get(), block, sizeof block) > 0) {
    }
    int seen = 0;
    REQUIRE(loop->poll_writable(w.get(), [&](int res) noexcept { seen = res; }));
    REQUIRE(loop->after(20ms, [&](int) noexcept {
        while (::read(r.get(), block, sizeof block) > 0) {
        }
    }));
    while (seen == 0) REQUIRE(loop->run_once());
    CHECK(seen > 0);
}

TEST_CASE("more completions at once than the completion ring holds are all delivered") {
    // 3,000 ready pipes at once overflow the small completion ring the loop starts with; the
    // kernel keeps the overflow (IORING_FEAT_NODROP) and every callback must still run once.
    constexpr int count = 3000;
    auto loop = hw::event_loop::create(4096).value();
    int p[2];
    REQUIRE(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
    hw::unique_fd r(p[0]), w(p[1]);
    REQUIRE(::write(w.get(), "x", 1) == 1);
    int ran = 0;
    for (int i = 0; i < count; ++i) {
        REQUIRE(loop->poll_readable(r.get(), [&](int res) noexcept { ran += res > 0; }));
    }
    for (int round = 0; round < 100 && ran < count; ++round) REQUIRE(loop->run_once());
    CHECK(ran == count);
    CHECK(loop->pending() == 0);
}
