// Selecting environments by name: reads a `[stage.environment]` TOML table (as a config::Table) into the
// options of the named environment, and builds a factory that hands out one Environment per rollout
// while sharing heavy parts (the code verifier's worker pool, the external process) between them.
//
//   [stage.environment]
//   name = "math"                # math | code | tutoring | external | a name registered by user code
//   format_pattern = "\\boxed\\{"  # optional format reward (regex), added with format_weight
//   format_weight = 0.1
//   answer_sources = ["boxed"]   # every other key belongs to the named environment's section
//
// Built-in names map to math_verifier.h, code_verifier.h, tutoring.h and external.h. User code adds its
// own with register_environment (plug-in levels 1 and 2 in C++).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config_schema.h"
#include "environments/code_verifier.h"
#include "environments/environment.h"
#include "environments/external.h"
#include "environments/math_verifier.h"
#include "environments/tutoring.h"

namespace anvil::env {

// Keys every environment table accepts.
struct EnvironmentCommon {
    std::string name;
    std::string format_pattern = "";  // "" = no format reward
    double format_weight = 0.0;
    std::string format_feedback = "Your response does not follow the required format.";
};

const config::Section<EnvironmentCommon>& environment_common_section();

struct EnvironmentSpec {
    EnvironmentCommon common;
    MathVerifierOptions math;
    CodeVerifierOptions code;
    TutoringOptions tutoring;
    ExternalOptions external;
    config::Table raw;  // the whole table, for environments registered by user code
};

// What the caller binds that a config cannot hold (model-backed callbacks).
struct EnvironmentContext {
    TutoringModels tutoring;
};

class EnvironmentFactory {
public:
    virtual ~EnvironmentFactory() = default;
    // A fresh environment for one rollout.
    virtual std::unique_ptr<Environment> make() = 0;
    // The single-turn reward function, or an empty function for environments that only exist multi-turn.
    virtual RewardFn reward() = 0;
};

using EnvironmentMaker =
    std::function<std::unique_ptr<EnvironmentFactory>(const EnvironmentSpec& spec, const EnvironmentContext& context)>;

// Adds (or replaces) a named environment. Its options arrive in spec.raw.
void register_environment(const std::string& name, EnvironmentMaker maker);

// Names known now (built-in and registered), sorted.
std::vector<std::string> environment_names();

// Reads an environment table; problems go to `diag` with file:line and key paths under `prefix`.
EnvironmentSpec read_environment_spec(const config::Table& table, const config::SourcePos& pos,
                                      const std::string& prefix, config::Diagnostics& diag);

// The `environment` key of a stage section (config::Section::custom): reads the [stage.environment] table
// at `path`, and renders a spec back as an inline TOML table.
void read_environment_value(const config::Value& value, EnvironmentSpec& out, const std::string& path,
                            config::Diagnostics& diag);
std::string render_environment_spec(const EnvironmentSpec& spec);

// The spec of environment `name` with every option at its default.
EnvironmentSpec environment_named(const std::string& name);

// Builds the named environment; throws UsageError for an unknown name or missing callbacks.
std::unique_ptr<EnvironmentFactory> make_environment(const EnvironmentSpec& spec, const EnvironmentContext& context = {});

}  // namespace anvil::env
