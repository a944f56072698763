// guarded: the boundary between the event loop and service-manager's handlers. Loop callbacks
// are noexcept; the only exception our code can raise is an allocation failure (or a library
// error while formatting). Such a failure aborts that one handler, is logged, and the loop goes
// on: a callback that re-arms its watch does so outside the guarded part.
#pragma once

#include <exception>

#include "common/log.hpp"

namespace hw::svc {

template <class F>
void guarded(const char* what, F&& f) noexcept {
    try {
        f();
    } catch (const std::exception& e) {
        log::error("unable to {}: {}", what, e.what());
    } catch (...) {
        log::error("unable to {}: unknown exception", what);
    }
}

}  // namespace hw::svc
