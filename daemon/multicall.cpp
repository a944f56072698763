// main() of the daemons' executable: installed as system-manager, with service-manager and
// system-logger as symlinks to it. The basename of argv[0] picks the program; any other name is
// the system-manager, because the kernel may run it as /sbin/init or /init.
#include <string_view>

#include "daemon/programs.hpp"

int main(int argc, char** argv) {
    std::string_view path = argc > 0 && argv[0] ? argv[0] : "";
    std::string_view name = path.substr(path.rfind('/') + 1);
    if (name == "service-manager") return hw::service_manager_main(argc, argv);
    if (name == "system-logger") return hw::system_logger_main(argc, argv);
    return hw::system_manager_main(argc, argv);
}
