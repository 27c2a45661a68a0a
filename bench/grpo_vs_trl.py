"""One GRPO step (rollout + reward + update), Anvil vs TRL's GRPOTrainer, on the same tiny model on CPU.

Builds a random Qwen3-style model with transformers (hidden 256, 4 layers, 4 heads / 2 KV heads, tied
embeddings) with a byte-level BPE tokenizer trained on the arithmetic prompts (HF `tokenizers`, vocab 1024),
saves it, and writes generated arithmetic tasks. Then, with the same prompts per step, group size, completion
length, learning rate, loss (DAPO: token-mean, clip 0.2 / 0.28, no KL) and threads:
  * Anvil: `anvil run` of a one-stage GRPO config; per-step wall time from metrics.jsonl (step_seconds,
    which includes the rollout, the rewards and the update);
  * TRL (when the `trl` package is installed): GRPOTrainer with a Python reward that checks the last
    \\boxed{} answer, timed per optimizer step by a callback.
The random model never emits EOS, so both generate the full completion length every step. Prints the median
step time of each (first step excluded as warm-up) and the ratio.

    ./scripts/build.sh --target anvil
    /root/.cache/anvil/venv-fixtures/bin/python bench/grpo_vs_trl.py [--prompts 8 --group 8 --new 64 --steps 6 --threads 2]

Numbers depend on the machine's load; run it on an idle machine and compare ratios, not absolute values.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile
import time

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast, Qwen3Config

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def make_tasks(n, seed=0):
    gen = torch.Generator().manual_seed(seed)
    tasks = []
    for i in range(n):
        a, b = (int(x) for x in torch.randint(0, 100, (2,), generator=gen))
        tasks.append({"id": f"t{i}", "prompt": f"What is {a} + {b}?", "answer": str(a + b)})
    return tasks


def make_checkpoint(out, tasks):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=1024, special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([t["prompt"] + " The answer is \\boxed{" + t["answer"] + "}." for t in tasks], trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    fast.save_pretrained(out)
    torch.manual_seed(1)
    cfg = Qwen3Config(vocab_size=tok.get_vocab_size(), hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, head_dim=64, tie_word_embeddings=True,
                      max_position_embeddings=2048, bos_token_id=None, eos_token_id=fast.eos_token_id,
                      pad_token_id=fast.pad_token_id)
    model = AutoModelForCausalLM.from_config(cfg, dtype=torch.float32)
    model.save_pretrained(out)
    return sum(p.numel() for p in model.parameters())


def anvil_step_seconds(args, work, model_dir, tasks_file):
    config = f"""[run]
name = "bench"
output_dir = "{work}/runs"
threads = {args.threads}
[logging]
progress = "off"
tensorboard = false
[[stage]]
kind = "grpo"
model = "{model_dir}"
tasks = {{ path = "{tasks_file}" }}
prompts_per_step = {args.prompts}
group_size = {args.group}
max_new_tokens = {args.new}
micro_batch_size = {args.prompts * args.group}
rollout_batch_size = {args.prompts * args.group}
max_steps = {args.steps}
lr = 1e-6
clip_low = 0.2
clip_high = 0.28
loss_aggregation = "token-mean"
log_completions_every = 0
"""
    path = os.path.join(work, "grpo_bench.toml")
    with open(path, "w") as f:
        f.write(config)
    subprocess.run([os.path.join(ROOT, "build/bin/anvil"), "run", path], check=True, capture_output=True)
    steps = []
    with open(os.path.join(work, "runs/bench/metrics.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            if row["stage"] == "grpo" and "step_seconds" in row:
                steps.append(row["step_seconds"])
    return steps


def trl_step_seconds(args, work, model_dir, tasks):
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    def boxed_reward(completions, answer, **kwargs):
        out = []
        for text, ans in zip(completions, answer):
            found = re.findall(r"\\boxed\{([^}]*)\}", text)
            out.append(1.0 if found and found[-1].strip() == ans else 0.0)
        return out

    class Timer(TrainerCallback):
        def __init__(self):
            self.steps, self.start = [], None

        def on_step_begin(self, *a, **k):
            self.start = time.perf_counter()

        def on_step_end(self, *a, **k):
            self.steps.append(time.perf_counter() - self.start)

    torch.set_num_threads(args.threads)
    config = GRPOConfig(output_dir=os.path.join(work, "trl"), per_device_train_batch_size=args.prompts * args.group,
                        num_generations=args.group, max_completion_length=args.new, max_steps=args.steps,
                        learning_rate=1e-6, beta=0.0, epsilon=0.2, epsilon_high=0.28, loss_type="dapo",
                        temperature=1.0, save_strategy="no", report_to=[], logging_steps=1, use_cpu=True,
                        bf16=False, dataloader_num_workers=0, disable_tqdm=True, seed=0)
    timer = Timer()
    trainer = GRPOTrainer(model=model_dir, reward_funcs=boxed_reward, args=config,
                          train_dataset=Dataset.from_list([{"prompt": t["prompt"], "answer": t["answer"]} for t in tasks]),
                          processing_class=PreTrainedTokenizerFast.from_pretrained(model_dir), callbacks=[timer])
    trainer.train()
    return timer.steps


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=8)
    parser.add_argument("--group", type=int, default=8)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        tasks = make_tasks(2000)
        model_dir = os.path.join(work, "model")
        params = make_checkpoint(model_dir, tasks)
        tasks_file = os.path.join(work, "tasks.jsonl")
        with open(tasks_file, "w") as f:
            for t in tasks:
                f.write(json.dumps(t) + "\n")
        print(f"model: {params / 1e6:.1f}M parameters; {args.prompts} prompts x {args.group} completions x {args.new} "
              f"new tokens per step; {args.threads} threads; median of steps 2..{args.steps}")
        anvil = statistics.median(anvil_step_seconds(args, work, model_dir, tasks_file)[1:])
        print(f"anvil  GRPO step: {anvil:.3f} s")
        try:
            import trl  # noqa: F401
        except ImportError:
            print("trl is not installed: no TRL comparison")
            return
        trl_s = statistics.median(trl_step_seconds(args, work, model_dir, tasks)[1:])
        print(f"TRL    GRPO step: {trl_s:.3f} s")
        print(f"ratio (TRL / Anvil): {trl_s / anvil:.2f}x")


if __name__ == "__main__":
    main()
