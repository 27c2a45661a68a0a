// Implementation of launch/stage_registry.h: every stage kind, in the order `anvil config reference` lists them.
#include "launch/stage_registry.h"

#include "algorithms/arithmetic_tasks_stage.h"
#include "algorithms/dpo.h"
#include "algorithms/evaluation.h"
#include "algorithms/grpo.h"
#include "algorithms/model_init_stage.h"
#include "algorithms/preference_pairs_stage.h"
#include "algorithms/report_stage.h"
#include "algorithms/reward_model_stage.h"
#include "algorithms/sft.h"
#include "algorithms/tokenizer_stage.h"

namespace anvil {

const std::vector<StageKind>& stage_kinds() {
    static const std::vector<StageKind> kinds = {
        stage_kind<ArithmeticTaskOptions>(
            "arithmetic_tasks",
            "Generate verifiable arithmetic problems with worked solutions into train.jsonl and test.jsonl "
            "(published as @train_tasks and @test_tasks).",
            run_arithmetic_tasks_stage),
        stage_kind<TokenizerStageOptions>(
            "tokenizer", "Train a SentencePiece tokenizer on JSONL text; publishes the tokenizer directory as @tokenizer.",
            run_tokenizer_stage),
        stage_kind<ModelInitOptions>(
            "model_init",
            "Create a randomly initialised model (HF checkpoint directory with the tokenizer); publishes @model.",
            run_model_init_stage),
        stage_kind<SftOptions>(
            "sft",
            "Supervised fine-tuning on prompt/completion or chat records, loss on completion tokens; publishes @model.",
            run_sft_stage, /*all_ranks=*/true),
        stage_kind<GrpoOptions>(
            "grpo",
            "RL with verifiable rewards (GRPO / DAPO / Dr.GRPO): sample groups of completions, score them with an "
            "environment, clipped policy-gradient steps; publishes @model.",
            run_grpo_stage, /*all_ranks=*/true),
        stage_kind<EvalOptions>(
            "eval",
            "Evaluate a model on held-out tasks with an environment: greedy accuracy, mean@n and unbiased pass@k; "
            "writes samples.jsonl and results.json.",
            run_eval_stage),
        stage_kind<ReportOptions>(
            "report",
            "Write <run>/report.html: every evaluation side by side and SVG charts of the training stages' metrics; "
            "prints the evaluation table.",
            run_report_stage),
        stage_kind<PreferencePairsOptions>(
            "preference_pairs",
            "Preference pairs from verifiable tasks: chosen = the verified solution, rejected = the same with a wrong "
            "answer; publishes @train_pairs and @test_pairs.",
            run_preference_pairs_stage),
        stage_kind<DpoOptions>(
            "dpo", "Direct Preference Optimization (sigmoid, ipo, hinge, robust) on preference pairs; publishes @model.",
            run_dpo_stage, /*all_ranks=*/true),
        stage_kind<RewardModelOptions>(
            "reward_model",
            "Bradley-Terry reward model on preference pairs: a single head or an anchored K-head ensemble answering "
            "[reward, lower, upper]; publishes @reward_model.",
            run_reward_model_stage, /*all_ranks=*/true),
    };
    return kinds;
}

}  // namespace anvil
