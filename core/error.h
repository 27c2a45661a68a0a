// Anvil's error types and check macro.
//
// Two kinds of failure reach the user, each with one clear message and no stack trace:
//   - UsageError: the user asked for something invalid (bad flags, bad config, bad CLI input) -> exit code 2;
//   - Error: something failed while running (bad data file, broken checkpoint, I/O, a child process) -> exit code 1.
// Messages name the file, line or key involved. This file holds no logging and no recovery policy.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace anvil {

// Concatenates any streamable values into a string: str("step ", 3, " of ", n).
template <class... Args>
std::string str(Args&&... args) {
    std::ostringstream out;
    (out << ... << std::forward<Args>(args));
    return out.str();
}

// A failure at run time (exit code 1).
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The user's request or configuration is invalid (exit code 2).
class UsageError : public Error {
public:
    using Error::Error;
};

}  // namespace anvil

// Throws anvil::Error with the concatenated message when `cond` is false.
#define ANVIL_CHECK(cond, ...)                                        \
    do {                                                              \
        if (!(cond)) throw ::anvil::Error(::anvil::str(__VA_ARGS__)); \
    } while (0)
