// The three long-lived programs, built as one executable (daemon/multicall.cpp picks one by the
// name it was run as, as busybox does): PID 1, the logger and the service-manager then share
// their code pages, which is most of their memory (bench S1).
//
// Each entry point is the program's whole main(): it parses its own arguments and returns its
// exit status.
#pragma once

namespace hw {

int system_manager_main(int argc, char** argv);
int service_manager_main(int argc, char** argv);
int system_logger_main(int argc, char** argv);

}  // namespace hw
