// Command-line parsing for Anvil's executables: each command declares its flags (with a doc line) and
// positional arguments; parsing accepts `--flag value` and `--flag=value` (dashes and underscores alike),
// repeatable flags and switches, and reports unknown flags with a suggestion. It also renders --help.
// Nothing here knows what the commands do.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace anvil::cli {

struct Flag {
    std::string name;        // without dashes, e.g. "set"
    std::string value_name;  // "" for a switch
    std::string doc;
    bool repeatable = false;
};

struct Command {
    std::string name;     // e.g. "config check"
    std::string summary;  // one line
    std::vector<std::string> positionals;  // names, e.g. {"CONFIG"}; all required
    std::vector<Flag> flags;
    std::string details;  // extra paragraphs for --help
    // The first positional starts a command line of its own (a launcher's PROGRAM ARGS...): it and everything
    // after it are positionals, flags included.
    bool trailing_command = false;
};

class Args {
public:
    bool help = false;
    std::vector<std::string> positionals;
    std::map<std::string, std::vector<std::string>> values;

    bool has(const std::string& flag) const { return values.count(flag) > 0; }
    std::string get(const std::string& flag, const std::string& fallback = "") const;
    // The value of a flag that must be present (UsageError otherwise).
    std::string required(const std::string& flag) const;
    const std::vector<std::string>& all(const std::string& flag) const;
    double get_number(const std::string& flag, double fallback) const;
    // An integer flag >= min_value (UsageError naming the flag otherwise).
    int64_t get_integer(const std::string& flag, int64_t fallback, int64_t min_value) const;
};

// Parses argv[first..argc). Throws UsageError on unknown flags, missing values or positionals.
Args parse(const Command& command, int argc, char** argv, int first);
std::string help_text(const std::string& program, const Command& command);

}  // namespace anvil::cli
