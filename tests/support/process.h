// Test helper: runs a shell command and captures its combined output and exit status, for the tests that
// drive Anvil's executables as a user would.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace anvil::testing_support {

struct CommandResult {
    int code;            // exit code, or 128 + signal number when killed
    std::string output;  // stdout and stderr together
};

inline CommandResult run_command(const std::string& command) {
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), out};
}

}  // namespace anvil::testing_support
