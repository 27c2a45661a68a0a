// Implementation of registry.h.
#include "environments/registry.h"

#include <algorithm>
#include <map>
#include <mutex>

#include "core/error.h"
#include "core/text.h"

namespace anvil::env {

namespace {

const std::vector<std::string> kCommonKeys = {"name", "format_pattern", "format_weight", "format_feedback"};
const std::vector<std::string> kBuiltIn = {"code", "external", "math", "tutoring"};

std::mutex& registry_mutex() {
    static std::mutex m;
    return m;
}
std::map<std::string, EnvironmentMaker>& registry() {
    static std::map<std::string, EnvironmentMaker> r;
    return r;
}

// Adds the configured format reward to a main reward.
RewardFn with_format(RewardFn main, const std::string& main_name, const EnvironmentCommon& common) {
    if (common.format_pattern.empty() || common.format_weight == 0.0) return main;
    return weighted_sum({{main_name, 1.0, std::move(main)},
                         {"format", common.format_weight, format_reward(common.format_pattern, common.format_feedback)}});
}

class RewardFactory : public EnvironmentFactory {
public:
    explicit RewardFactory(RewardFn reward) : reward_(std::move(reward)) {}
    std::unique_ptr<Environment> make() override { return std::make_unique<SingleTurnEnvironment>(reward_); }
    RewardFn reward() override { return reward_; }

private:
    RewardFn reward_;
};

// Keeps the code verifier (and its worker pool) alive as long as the factory.
class CodeFactory : public EnvironmentFactory {
public:
    CodeFactory(const CodeVerifierOptions& options, const EnvironmentCommon& common)
        : verifier_(std::make_shared<CodeVerifier>(options)) {
        auto verifier = verifier_;
        reward_ = with_format([verifier](const Task& t, const std::string& c) { return verifier->reward()(t, c); },
                              "code", common);
    }
    std::unique_ptr<Environment> make() override { return std::make_unique<SingleTurnEnvironment>(reward_); }
    RewardFn reward() override { return reward_; }

private:
    std::shared_ptr<CodeVerifier> verifier_;
    RewardFn reward_;
};

class ExternalFactory : public EnvironmentFactory {
public:
    ExternalFactory(const ExternalOptions& options, const EnvironmentCommon& common)
        : process_(std::make_shared<ExternalProcess>(options)),
          reward_(with_format(external_reward(process_), "external", common)) {}
    std::unique_ptr<Environment> make() override { return std::make_unique<ExternalEnvironment>(process_); }
    RewardFn reward() override { return reward_; }

private:
    std::shared_ptr<ExternalProcess> process_;
    RewardFn reward_;
};

class TutoringFactory : public EnvironmentFactory {
public:
    TutoringFactory(const TutoringOptions& options, TutoringModels models)
        : options_(options), models_(std::move(models)) {
        TutoringEnvironment check(options_, models_);  // reports missing callbacks now, not per rollout
    }
    std::unique_ptr<Environment> make() override { return std::make_unique<TutoringEnvironment>(options_, models_); }
    RewardFn reward() override { return {}; }

private:
    TutoringOptions options_;
    TutoringModels models_;
};

}  // namespace

const config::Section<EnvironmentCommon>& environment_common_section() {
    static const config::Section<EnvironmentCommon> section = [] {
        config::Section<EnvironmentCommon> s("environment", "Which environment scores the rollouts.");
        s.field("name", &EnvironmentCommon::name,
                "Environment name: math, code, tutoring, external, or one registered by user code.")
            .required();
        s.field("format_pattern", &EnvironmentCommon::format_pattern,
                "Regular expression (PCRE2) a completion must contain for the format reward; empty for none.");
        s.field("format_weight", &EnvironmentCommon::format_weight, "Weight of the format reward in the sum.");
        s.field("format_feedback", &EnvironmentCommon::format_feedback, "Feedback when the format is not met.");
        return s;
    }();
    return section;
}

void register_environment(const std::string& name, EnvironmentMaker maker) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry()[name] = std::move(maker);
}

std::vector<std::string> environment_names() {
    std::vector<std::string> names = kBuiltIn;
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (const auto& [name, maker] : registry())
        if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

EnvironmentSpec read_environment_spec(const config::Table& table, const config::SourcePos& pos,
                                      const std::string& prefix, config::Diagnostics& diag) {
    EnvironmentSpec spec;
    spec.raw = table;
    config::Table common_part;
    std::vector<std::string> specific_keys;
    for (const auto& [key, value] : table) {
        if (std::find(kCommonKeys.begin(), kCommonKeys.end(), key) != kCommonKeys.end()) common_part.emplace_back(key, value);
        else specific_keys.push_back(key);
    }
    size_t before = diag.messages().size();
    environment_common_section().read(common_part, pos, prefix, spec.common, diag);
    if (diag.messages().size() != before) return spec;
    const std::string& name = spec.common.name;
    if (name == "math") math_verifier_section().read(table, pos, prefix, spec.math, diag, kCommonKeys);
    else if (name == "code") code_verifier_section().read(table, pos, prefix, spec.code, diag, kCommonKeys);
    else if (name == "tutoring") tutoring_section().read(table, pos, prefix, spec.tutoring, diag, kCommonKeys);
    else if (name == "external") external_section().read(table, pos, prefix, spec.external, diag, kCommonKeys);
    else {
        std::vector<std::string> names = environment_names();
        if (std::find(names.begin(), names.end(), name) == names.end()) {
            std::string hint = closest_match(name, names);
            const config::Value* v = config::find(table, "name");
            diag.error(v ? v->pos : pos, str(prefix, ".name: unknown environment '", name, "' (known: ", join(names, ", "),
                                             ")", hint.empty() ? "" : str("; did you mean '", hint, "'?")));
        }
    }
    return spec;
}

void read_environment_value(const config::Value& value, EnvironmentSpec& out, const std::string& path,
                            config::Diagnostics& diag) {
    if (!value.table()) return diag.error(value.pos, str(path, ": expected a table, got ", value.type_name()));
    out = read_environment_spec(*value.table(), value.pos, path, diag);
}

std::string render_environment_spec(const EnvironmentSpec& spec) {
    if (spec.raw.empty()) return str("{ name = ", config::to_toml(spec.common.name), " }");
    return config::to_toml(config::Value{spec.raw, {}});
}

EnvironmentSpec environment_named(const std::string& name) {
    EnvironmentSpec spec;
    spec.common.name = name;
    return spec;
}

std::unique_ptr<EnvironmentFactory> make_environment(const EnvironmentSpec& spec, const EnvironmentContext& context) {
    const std::string& name = spec.common.name;
    {
        std::lock_guard<std::mutex> lock(registry_mutex());
        auto it = registry().find(name);
        if (it != registry().end()) return it->second(spec, context);
    }
    if (name == "math")
        return std::make_unique<RewardFactory>(with_format(MathVerifier(spec.math).reward(), "math", spec.common));
    if (name == "code") return std::make_unique<CodeFactory>(spec.code, spec.common);
    if (name == "external") return std::make_unique<ExternalFactory>(spec.external, spec.common);
    if (name == "tutoring") return std::make_unique<TutoringFactory>(spec.tutoring, context.tutoring);
    std::string hint = closest_match(name, environment_names());
    throw UsageError(str("unknown environment '", name, "' (known: ", join(environment_names(), ", "), ")",
                         hint.empty() ? "" : str("; did you mean '", hint, "'?")));
}

}  // namespace anvil::env
