// replay_main: the main() of a fuzz target in the normal build. It runs LLVMFuzzerTestOneInput
// once over every input named on the command line: a file, or every regular file of a directory
// (in name order), as a libFuzzer binary does with -runs=0. meson registers one such replay per
// target and corpus (suite `fuzz`), so every committed seed and every fixed crash is run again
// by every test run; a crash or a failed FUZZ_CHECK fails the test. Exit 1 when no input was
// found, so that a mistyped corpus path cannot pass.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz.hpp"

namespace {

std::vector<std::filesystem::path> inputs(const char* arg) {
    namespace fs = std::filesystem;
    std::vector<fs::path> found;
    if (!fs::is_directory(arg)) {
        found.emplace_back(arg);
        return found;
    }
    for (const auto& e : fs::directory_iterator(arg))
        if (e.is_regular_file()) found.push_back(e.path());
    std::sort(found.begin(), found.end());
    return found;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        for (const auto& path : inputs(argv[i])) {
            std::ifstream in(path, std::ios::binary);
            if (!in) {
                std::fprintf(stderr, "unable to read %s\n", path.c_str());
                return 1;
            }
            std::string data{std::istreambuf_iterator<char>(in), {}};
            std::printf("%s (%zu bytes)\n", path.c_str(), data.size());
            std::fflush(stdout);  // the name is out before a crash
            LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
            ++count;
        }
    }
    std::printf("%zu inputs replayed\n", count);
    return count > 0 ? 0 : 1;
}
