// Implementation of trainer/experiment.h.
#include "trainer/experiment.h"

#include <set>

#include "core/text.h"
#include "trainer/config_toml.h"

namespace anvil {

using config::Diagnostics;
using config::SourcePos;
using config::Table;
using config::Value;

const config::Section<RunOptions>& RunOptions::section() {
    static const config::Section<RunOptions> s = [] {
        config::Section<RunOptions> s("run", "Where the run lives and what every stage shares.");
        s.field("name", &RunOptions::name,
                "Run name; outputs go to <output_dir>/<name>/. Empty: the config file's name without extension.");
        s.field("output_dir", &RunOptions::output_dir, "Directory that holds run directories.");
        s.field("seed", &RunOptions::seed, "Global random seed (sampling, initialisation, shuffling).").min(0);
        s.field("threads", &RunOptions::threads,
                "CPU threads per rank for tensor maths; 0 = the machine's cores divided among the local ranks.")
            .min(0);
        s.field("device", &RunOptions::device,
                "Where each rank computes: cuda (rank i on cuda:LOCAL_RANK, NCCL between ranks), cpu (Gloo), or auto "
                "(cuda when a GPU is visible).")
            .choices({"auto", "cpu", "cuda"});
        s.field("resume", &RunOptions::resume,
                "Continue an existing run directory: skip completed stages and resume from the latest checkpoint.");
        return s;
    }();
    return s;
}

const config::Section<LoggingOptions>& LoggingOptions::section() {
    static const config::Section<LoggingOptions> s = [] {
        config::Section<LoggingOptions> s("logging", "What the run prints and records.");
        s.field("level", &LoggingOptions::level, "Least severe message printed.")
            .choices({"debug", "info", "warn", "error"});
        s.field("progress", &LoggingOptions::progress,
                "Progress display: a live line on a terminal (bar), periodic plain lines (lines), none (off), "
                "or bar on a terminal and lines otherwise (auto).")
            .choices({"auto", "bar", "lines", "off"});
        s.field("progress_interval", &LoggingOptions::progress_interval,
                "Seconds between plain progress lines when progress is shown as lines.")
            .min(0.1);
        s.field("tensorboard", &LoggingOptions::tensorboard,
                "Also write metrics as TensorBoard event files under <run>/tensorboard/.");
        return s;
    }();
    return s;
}

const StageKind& find_stage_kind(const std::vector<StageKind>& kinds, const std::string& kind) {
    for (const auto& k : kinds)
        if (k.kind == kind) return k;
    std::vector<std::string> names;
    for (const auto& k : kinds) names.push_back(k.kind);
    std::string hint = closest_match(kind, names);
    throw UsageError(str("unknown stage kind '", kind, "'", hint.empty() ? "" : str(" (did you mean '", hint, "'?)"),
                         "; known kinds: ", join(names, ", ")));
}

namespace {

const std::vector<std::string>& top_level_keys() {
    static const std::vector<std::string> keys = {"run", "logging", "stage"};
    return keys;
}

template <class Options>
void read_section(const Table& root, Options& out, Diagnostics& diag) {
    const auto& section = Options::section();
    const Value* v = config::find(root, section.name());
    if (!v) return;
    if (!v->table()) return diag.error(v->pos, str("'", section.name(), "' must be a table ([", section.name(), "])"));
    section.read(*v->table(), v->pos, section.name(), out, diag);
}

const std::string* string_value(const Value* v) { return v ? std::get_if<std::string>(&v->data) : nullptr; }

void read_stages(const Table& root, const std::string& file, const std::vector<StageKind>& kinds, Experiment& out,
                 Diagnostics& diag) {
    const Value* v = config::find(root, "stage");
    const auto* stages = v ? std::get_if<config::Array>(&v->data) : nullptr;
    if (!v) return diag.error(SourcePos{file, 0, 0}, "no [[stage]] tables: an experiment needs at least one stage");
    if (!stages) return diag.error(v->pos, "'stage' must be an array of tables ([[stage]])");
    std::set<std::string> names;
    for (size_t i = 0; i < stages->size(); ++i) {
        const Value& s = (*stages)[i];
        std::string prefix = str("stage[", i, "]");
        if (!s.table()) {
            diag.error(s.pos, str(prefix, " must be a table"));
            continue;
        }
        const Value* kind_value = config::find(*s.table(), "kind");
        const std::string* kind = string_value(kind_value);
        if (!kind) {
            diag.error(kind_value ? kind_value->pos : s.pos,
                       str(prefix, ".kind: ", kind_value ? "expected string" : "missing required key",
                           " (one of the stage kinds listed by `anvil config check --help`)"));
            continue;
        }
        const StageKind* stage_kind = nullptr;
        try {
            stage_kind = &find_stage_kind(kinds, *kind);
        } catch (const UsageError& e) {
            diag.error(kind_value->pos, str(prefix, ".kind: ", e.what()));
            continue;
        }
        const Value* name_value = config::find(*s.table(), "name");
        const std::string* name = string_value(name_value);
        if (name_value && !name) diag.error(name_value->pos, str(prefix, ".name: expected string"));
        std::string stage_name = name ? *name : *kind;
        prefix = str("stage[", i, "] (", stage_name, ")");
        if (!names.insert(stage_name).second)
            diag.error(name_value ? name_value->pos : kind_value->pos,
                       str(prefix, ": another stage is already named '", stage_name,
                           "'; give each stage of the same kind a distinct `name`"));
        auto stage = stage_kind->read(*s.table(), s.pos, prefix, diag);
        stage->kind = *kind;
        stage->name = stage_name;
        stage->pos = s.pos;
        out.stages.push_back(std::move(stage));
    }
}

}  // namespace

Experiment load_experiment(const std::filesystem::path& file, const std::vector<std::string>& overrides,
                           const std::vector<StageKind>& kinds) {
    Value root = config::parse_toml_file(file);
    for (const auto& o : overrides) config::apply_override(root, o);
    Experiment exp;
    exp.source = file;
    Diagnostics diag;
    const Table& table = *root.table();
    for (const auto& [key, value] : table) {
        if (std::find(top_level_keys().begin(), top_level_keys().end(), key) != top_level_keys().end()) continue;
        std::string hint = closest_match(key, top_level_keys());
        diag.error(value.pos, str("unknown section '", key, "'", hint.empty() ? "" : str(" (did you mean '", hint, "'?)"),
                                  "; expected [run], [logging] or [[stage]]"));
    }
    read_section(table, exp.run, diag);
    read_section(table, exp.logging, diag);
    read_stages(table, file.string(), kinds, exp, diag);
    diag.throw_if_any();
    if (exp.run.name.empty()) exp.run.name = file.stem().string();
    return exp;
}

std::string render_experiment(const Experiment& exp) {
    std::string out = str("# Resolved configuration of ", exp.source.string(), " (every key, defaults filled in).\n\n");
    out += "[run]\n" + RunOptions::section().render(exp.run) + "\n";
    out += "[logging]\n" + LoggingOptions::section().render(exp.logging);
    for (const auto& stage : exp.stages) {
        out += str("\n[[stage]]\nkind = ", config::to_toml(stage->kind), "\nname = ", config::to_toml(stage->name),
                   "\n", stage->render());
    }
    return out;
}

std::string reference_markdown(const std::vector<StageKind>& kinds) {
    std::string out =
        "# Anvil configuration reference\n\n"
        "Generated by `anvil config reference`; do not edit by hand (a test checks it is current).\n\n"
        "An experiment is one TOML file with a `[run]` section, a `[logging]` section and one or more `[[stage]]`\n"
        "tables run in order. Every key below is optional unless marked *required*. Override any key from the\n"
        "command line with `--set section.key=value` (a stage: `--set stage.<index or name>.key=value`).\n"
        "`anvil config check FILE` prints the fully resolved configuration.\n\n";
    out += "## [run]\n\n" + RunOptions::section().doc() + "\n\n" + config::markdown_table(RunOptions::section().describe());
    out += "\n## [logging]\n\n" + LoggingOptions::section().doc() + "\n\n" +
           config::markdown_table(LoggingOptions::section().describe());
    out += "\n## [[stage]]\n\nEvery stage has `kind` (*required*, one of the kinds below) and `name` (default: the kind; "
           "unique within the experiment, used for its directory under the run and as the metrics prefix).\n";
    for (const auto& k : kinds)
        out += str("\n### kind = \"", k.kind, "\"\n\n", k.summary, "\n\n", config::markdown_table(k.describe()));
    return out;
}

}  // namespace anvil
