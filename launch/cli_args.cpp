// Implementation of launch/cli_args.h.
#include "launch/cli_args.h"

#include <algorithm>
#include <cstdlib>

#include "core/error.h"
#include "core/text.h"

namespace anvil::cli {

std::string Args::get(const std::string& flag, const std::string& fallback) const {
    auto it = values.find(flag);
    return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

std::string Args::required(const std::string& flag) const {
    auto it = values.find(flag);
    if (it == values.end() || it->second.empty()) throw UsageError(str("missing required flag --", flag));
    return it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& flag) const {
    static const std::vector<std::string> none;
    auto it = values.find(flag);
    return it == values.end() ? none : it->second;
}

double Args::get_number(const std::string& flag, double fallback) const {
    std::string v = get(flag);
    if (v.empty()) return fallback;
    char* end = nullptr;
    double x = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0') throw UsageError(str("--", flag, ": expected a number, got '", v, "'"));
    return x;
}

int64_t Args::get_integer(const std::string& flag, int64_t fallback, int64_t min_value) const {
    double v = get_number(flag, static_cast<double>(fallback));
    if (v != static_cast<double>(static_cast<int64_t>(v)) || v < static_cast<double>(min_value))
        throw UsageError(str("--", flag, ": expected an integer >= ", min_value, ", got ", get(flag)));
    return static_cast<int64_t>(v);
}

Args parse(const Command& command, int argc, char** argv, int first) {
    Args args;
    std::vector<std::string> flag_names;
    for (const auto& f : command.flags) flag_names.push_back(f.name);
    for (int i = first; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            args.help = true;
            continue;
        }
        if (a.size() < 3 || a.rfind("--", 0) != 0) {
            args.positionals.push_back(a);
            if (command.trailing_command) {
                for (++i; i < argc; ++i) args.positionals.push_back(argv[i]);
                break;
            }
            continue;
        }
        std::string name = a.substr(2), value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        std::replace(name.begin(), name.end(), '_', '-');
        auto spec = std::find_if(command.flags.begin(), command.flags.end(), [&](const Flag& f) { return f.name == name; });
        if (spec == command.flags.end()) {
            std::string hint = closest_match(name, flag_names);
            throw UsageError(str("anvil ", command.name, ": unknown flag --", name,
                                 hint.empty() ? "" : str(" (did you mean --", hint, "?)"), "; see --help"));
        }
        if (spec->value_name.empty()) {
            if (inline_value) throw UsageError(str("--", name, " takes no value"));
            value = "true";
        } else if (!inline_value) {
            if (i + 1 >= argc) throw UsageError(str("--", name, " needs a value (", spec->value_name, ")"));
            value = argv[++i];
        }
        auto& slot = args.values[name];
        if (!slot.empty() && !spec->repeatable) throw UsageError(str("--", name, " given more than once"));
        slot.push_back(value);
    }
    if (args.help) return args;
    if (command.trailing_command ? args.positionals.empty() : args.positionals.size() != command.positionals.size()) {
        throw UsageError(str("anvil ", command.name, ": expected ",
                             command.positionals.empty() ? "no positional arguments" : join(command.positionals, " "),
                             args.positionals.size() > command.positionals.size() && !args.positionals.empty()
                                 ? str(", got extra '", args.positionals.back(), "'")
                                 : "",
                             "; see --help"));
    }
    return args;
}

std::string help_text(const std::string& program, const Command& command) {
    std::string usage = str("usage: ", program, " ", command.name);
    for (const auto& p : command.positionals) usage += " " + p;
    if (!command.flags.empty()) usage += " [flags]";
    std::string out = usage + "\n\n" + command.summary + "\n";
    if (!command.details.empty()) out += "\n" + command.details + "\n";
    if (!command.flags.empty()) {
        out += "\nflags:\n";
        for (const auto& f : command.flags) {
            std::string left = "  --" + f.name + (f.value_name.empty() ? "" : " " + f.value_name);
            if (left.size() < 28) left += std::string(28 - left.size(), ' ');
            else left += "\n" + std::string(28, ' ');
            out += left + f.doc + (f.repeatable ? " (repeatable)" : "") + "\n";
        }
    }
    out += "  -h, --help                show this help\n";
    return out;
}

}  // namespace anvil::cli
