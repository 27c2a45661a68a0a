// The `anvil` command line: run experiments, check and document configs, generate text, evaluate checkpoints,
// make random models, and print version information.
// Each subcommand parses its flags (launch/cli_args.h) and calls into the rooms; no logic of a room lives
// here. Exit codes: 0 success, 2 usage or config error, 1 failure at run time. Errors print one message.
#include <ATen/Parallel.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <cstdio>
#include <functional>
#include <iostream>

#include "core/error.h"
#include "core/files.h"
#include "core/log.h"
#include "core/malloc_tuning.h"
#include "core/text.h"
#include "launch/cli_args.h"
#include "launch/data_commands.h"
#include "launch/eval_command.h"
#include "launch/model_commands.h"
#include "launch/stage_registry.h"
#include "trainer/experiment.h"
#include "trainer/runner.h"

#ifndef ANVIL_VERSION
#define ANVIL_VERSION "unknown"
#endif

namespace anvil {
namespace {

const cli::Flag kSetFlag{"set", "KEY=VALUE", "override a config key, e.g. --set run.seed=7 or --set stage.sft.lr=1e-4",
                         true};

struct Subcommand {
    cli::Command spec;
    std::function<int(const cli::Args&)> run;
};

int run_command(const cli::Args& args) {
    Experiment exp = load_experiment(args.positionals[0], args.all("set"), stage_kinds());
    run_experiment(exp, stage_kinds());
    return 0;
}

int config_check_command(const cli::Args& args) {
    Experiment exp = load_experiment(args.positionals[0], args.all("set"), stage_kinds());
    std::cout << render_experiment(exp);
    std::cerr << args.positionals[0] << ": OK (" << exp.stages.size() << " stage(s))\n";
    return 0;
}

int config_reference_command(const cli::Args& args) {
    std::string text = reference_markdown(stage_kinds());
    if (args.has("out")) {
        write_file_atomic(args.get("out"), text);
        std::cerr << "wrote " << args.get("out") << "\n";
    } else {
        std::cout << text;
    }
    return 0;
}

int version_command(const cli::Args&) {
    std::cout << "anvil " << ANVIL_VERSION << "\nLibTorch " << TORCH_VERSION << "\nthreads " << at::get_num_threads()
              << "\n";
    return 0;
}

std::string stage_kind_list() {
    std::string out = "stage kinds:\n";
    for (const auto& k : stage_kinds()) out += str("  ", k.kind, std::string(k.kind.size() < 18 ? 18 - k.kind.size() : 1, ' '), k.summary, "\n");
    return out;
}

std::vector<Subcommand> subcommands() {
    return {
        {{"run", "Run every stage of an experiment config in order (resuming a run directory that exists).",
          {"CONFIG"}, {kSetFlag},
          "Outputs go to <run.output_dir>/<run.name>/: config.toml (resolved), log.txt, metrics.jsonl,\n"
          "tensorboard/, and one directory per stage. Launch on several processes with anvilrun or\n"
          "torchrun --no-python."},
         run_command},
        {{"config check", "Validate a config and print it fully resolved, every key with its default and doc.",
          {"CONFIG"}, {kSetFlag}, stage_kind_list()},
         config_check_command},
        {{"config reference", "Print the reference of every config section, stage kind and key (Markdown).",
          {}, {{"out", "FILE", "write to FILE instead of standard output"}}, ""},
         config_reference_command},
        {kGenerateCommand, generate_command},
        {kModelInitCommand, model_init_command},
        {kEvalCommand, eval_command},
        {kConvertHhCommand, convert_hh_command},
        {{"version", "Print Anvil's and LibTorch's versions.", {}, {}, ""}, version_command},
    };
}

std::string top_help() {
    std::string out = "usage: anvil <command> [args] [--help]\n\nAnvil post-trains LLMs natively in C++.\n\ncommands:\n";
    for (const auto& c : subcommands()) {
        std::string name = c.spec.name;
        out += "  " + name + std::string(name.size() < 20 ? 20 - name.size() : 1, ' ') + c.spec.summary + "\n";
    }
    return out + "\nRun `anvil <command> --help` for a command's flags.\n";
}

int dispatch(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h" ||
        std::string(argv[1]) == "help") {
        std::cout << top_help();
        return argc < 2 ? 2 : 0;
    }
    for (const auto& c : subcommands()) {
        auto words = split(c.spec.name, ' ');
        if (argc < static_cast<int>(words.size()) + 1) continue;
        bool match = true;
        for (size_t i = 0; i < words.size(); ++i) match = match && words[i] == argv[1 + i];
        if (!match) continue;
        cli::Args args = cli::parse(c.spec, argc, argv, 1 + static_cast<int>(words.size()));
        if (args.help) {
            std::cout << cli::help_text("anvil", c.spec);
            return 0;
        }
        return c.run(args);
    }
    std::vector<std::string> names;
    for (const auto& c : subcommands()) names.push_back(c.spec.name);
    std::string attempt = argv[1];
    if (argc > 2 && attempt == "config") attempt += std::string(" ") + argv[2];
    std::string hint = closest_match(attempt, names);
    throw UsageError(str("unknown command '", attempt, "'", hint.empty() ? "" : str(" (did you mean '", hint, "'?)"),
                         "; run `anvil --help`"));
}

}  // namespace
}  // namespace anvil

int main(int argc, char** argv) {
    anvil::keep_freed_memory_for_reuse();
    try {
        return anvil::dispatch(argc, argv);
    } catch (const anvil::UsageError& e) {
        anvil::log::status("");
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const anvil::Error& e) {
        anvil::log::error(e.what());
        return 1;
    } catch (const c10::Error& e) {
        anvil::log::error("LibTorch: ", e.what_without_backtrace());
        return 1;
    } catch (const std::exception& e) {
        anvil::log::error("unexpected failure: ", e.what());
        return 1;
    }
}
