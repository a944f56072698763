// state_file: what service-manager writes about each service under <run_dir>/services/<name>,
// so that a successor (after kill -9) takes over without restarting anything that still runs.
//
// Format (text, one "key value" per line, first line "heartwood-service-state 1"; unknown keys
// are ignored, so later versions may add keys):
//   name NAME                 bundle PATH              phase PHASE (service_machine phase_name)
//   want_up 0|1               no_restart 0|1           ready 0|1
//   current -|start|run|restart|stop                   main_gone 0|1
//   after_kill decide|down|fail                        killed none|term|kill
//   failing 0|1               watchdog_armed 0|1       self_stopping 0|1
//   deadline -|NS             (CLOCK_MONOTONIC, the same clock for every process; every NS
//                             here is 0 to 2^62)
//   since NS                  run_started NS           restart_count N
//   last_run_status N         record I VALID STATUS NS (I = 0 start, 1 run, 2 restart, 3 stop)
//   pid N                     pid_start TICKS          (field 22 of /proc/N/stat, against reuse)
//   pgid N                    paused 0|1               plumb_to NAME|-
//   input 0|1                 (its stdin pipe is in the fd store as in-r:NAME / in-w:NAME)
//   ready_pipe 0|1            (its notification-fd read end is in the fd store as ready:NAME)
//   status_text TEXT          (rest of the line; newlines replaced by spaces)
// Files are replaced atomically (write to .NAME.tmp, then rename), only when something changed.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "service_machine.hpp"

namespace hw::svc {

struct saved_service {
    std::string name;
    std::string bundle_dir;
    machine_state machine;
    pid_t pid = 0;
    std::uint64_t pid_start = 0;
    pid_t pgid = 0;
    bool paused = false;
    std::string plumb_to;
    bool input = false;
    bool ready_pipe = false;
    std::string status_text;
    bool operator==(const saved_service&) const;
};

std::string serialize(const saved_service& s);
std::optional<saved_service> parse_saved(std::string_view text);

// Writes <dir>/<name> atomically.
result<void> write_saved(const std::string& dir, const saved_service& s);
void remove_saved(const std::string& dir, const std::string& name);
// Every parseable file in `dir`; unparseable ones are logged and skipped.
std::vector<saved_service> read_all_saved(const std::string& dir);

}  // namespace hw::svc
