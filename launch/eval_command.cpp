// Implementation of launch/eval_command.h: flags to EvalOptions, then algorithms/evaluation.h.
#include "launch/eval_command.h"

#include <ATen/Parallel.h>

#include <iostream>

#include "algorithms/evaluation.h"
#include "algorithms/preference_data.h"
#include "algorithms/reward_model_stage.h"
#include "core/files.h"
#include "core/log.h"
#include "models/reward_model.h"
#include "models/text_generation.h"
#include "models/tokenizer.h"
#include "trainer/progress.h"

namespace anvil {

const cli::Command kEvalCommand{
    "eval",
    "Evaluate a checkpoint on held-out tasks (greedy accuracy, mean@n, pass@k), or a reward model on held-out pairs.",
    {},
    {
        {"model", "DIR", "checkpoint directory"},
        {"tasks", "FILE", "JSONL tasks"},
        {"format", "NAME", "task format: fields (default: id/prompt/answer), gsm8k, math, mbpp, humaneval"},
        {"limit", "N", "evaluate the first N tasks only"},
        {"env", "NAME", "scoring environment (default math): math, code, or one registered in code"},
        {"prompt-template", "TEXT", "how a task is shown; {prompt} is replaced (default {prompt})"},
        {"chat", "", "render prompts through the checkpoint's chat template"},
        {"samples", "N", "sampled completions per task for mean@n and pass@k (default 0: greedy only)"},
        {"k", "K", "report pass@K (repeatable; default 1 when sampling)", true},
        {"temperature", "T", "sampling temperature (default 1)"},
        {"max-new-tokens", "N", "longest completion (default 256)"},
        {"stop", "TEXT", "stop a completion once it contains TEXT", true},
        {"batch-size", "N", "completions generated together (default 64)"},
        {"seed", "N", "sampling seed (default 0)"},
        {"dtype", "TYPE", "float32 (default) or bfloat16"},
        {"threads", "N", "CPU threads (default: all cores)"},
        {"out", "FILE", "write every completion with its score as JSONL"},
        {"reward-model", "DIR", "evaluate this reward model on --pairs instead: accuracy, confident-true/false, ECE, ranking"},
        {"pairs", "FILE", "held-out preference pairs (JSONL) for --reward-model"},
        {"chat-template", "NAME", "with --reward-model: chatml, qwen3, llama3, plain or auto (default: none, raw text)"},
        {"max-length", "N", "with --reward-model: longest prompt + response in tokens (default 512)"},
    },
    "The same evaluations run inside experiments: the \"eval\" stage kind, and the held-out metrics of the\n"
    "\"reward_model\" stage kind (configs/REFERENCE.md)."};

namespace {

int reward_model_eval(const cli::Args& args) {
    if (args.has("threads")) at::set_num_threads(static_cast<int>(args.get_integer("threads", 1, 1)));
    const std::string dir = args.get("reward-model");
    RewardModel rm = RewardModel::load(dir);
    std::unique_ptr<Tokenizer> tokenizer = load_tokenizer(dir);
    std::optional<ChatTemplate> chat;
    if (args.has("chat-template")) chat = ChatTemplate::select(args.get("chat-template"), dir);
    PreferenceEncoding enc;
    enc.prompt_template = args.get("prompt-template", enc.prompt_template);
    if (enc.prompt_template.find("{prompt}") == std::string::npos) throw UsageError("--prompt-template must contain {prompt}");
    enc.max_length = args.get_integer("max-length", enc.max_length, 8);
    PreferenceDataset pairs = load_preference_dataset(args.required("pairs"), enc, *tokenizer, chat);
    if (pairs.examples.empty()) throw Error(str(args.get("pairs"), ": no pairs"));
    const auto& special = tokenizer->special_ids();
    const int64_t pad = special.pad.value_or(special.eos.empty() ? 0 : special.eos.front());
    std::cout << evaluate_reward_model(rm, pairs.examples, pad).table(dir + " on " + args.get("pairs"));
    return 0;
}

}  // namespace

int eval_command(const cli::Args& args) {
    if (args.has("reward-model")) return reward_model_eval(args);
    EvalOptions o;
    o.model = args.required("model");
    o.tasks.path = args.required("tasks");
    o.tasks.format = args.get("format", "fields");
    o.tasks.limit = args.get_integer("limit", 0, 0);
    config::Diagnostics diag;
    config::Table env_table = {{"name", config::Value{args.get("env", "math"), {}}}};
    o.environment = env::read_environment_spec(env_table, {}, "--env", diag);
    diag.throw_if_any();
    o.prompt_template = args.get("prompt-template", o.prompt_template);
    if (o.prompt_template.find("{prompt}") == std::string::npos) throw UsageError("--prompt-template must contain {prompt}");
    o.chat_template = args.has("chat") ? "auto" : "";
    o.samples = args.get_integer("samples", 0, 0);
    o.pass_k.clear();
    for (const auto& k : args.all("k")) {
        char* end = nullptr;
        long v = std::strtol(k.c_str(), &end, 10);
        if (*end != '\0' || v < 1 || v > o.samples) throw UsageError(str("--k ", k, ": must be an integer in [1, --samples]"));
        o.pass_k.push_back(v);
    }
    if (o.pass_k.empty() && o.samples > 0) o.pass_k = {1};
    o.temperature = args.get_number("temperature", o.temperature);
    o.max_new_tokens = args.get_integer("max-new-tokens", o.max_new_tokens, 1);
    o.stop = args.all("stop");
    o.batch_size = args.get_integer("batch-size", o.batch_size, 1);
    o.seed = args.get_integer("seed", 0, 0);
    if (args.has("threads")) at::set_num_threads(static_cast<int>(args.get_integer("threads", 1, 1)));
    const std::string dtype = args.get("dtype", "float32");
    if (dtype != "float32" && dtype != "bfloat16") throw UsageError("--dtype: expected float32 or bfloat16");

    auto tasks = env::load_tasks(o.tasks);
    if (tasks.empty()) throw Error(str(o.tasks.path, ": no tasks"));
    auto factory = env::make_environment(o.environment);
    env::RewardFn reward = factory->reward();
    if (!reward) throw UsageError(str("--env ", o.environment.common.name, " is multi-turn; anvil eval scores single-turn environments"));
    TextGenerator generator = TextGenerator::load(o.model, dtype == "bfloat16" ? at::kBFloat16 : at::kFloat, o.chat_template);
    Progress progress("eval", static_cast<int64_t>(tasks.size()) * (1 + o.samples), parse_progress_mode("auto"), 10.0);
    EvalReport report = evaluate_model(generator, tasks, reward, o, &progress);
    progress.finish();
    if (args.has("out")) write_file_atomic(args.get("out"), eval_samples_jsonl(report));
    std::cout << report.table(o.model + " on " + o.tasks.path);
    return 0;
}

}  // namespace anvil
