"""Training throughput: Anvil's training step vs a plain PyTorch eager loop, and 2 ranks vs 1 rank.

Builds the same random ~19M-parameter Qwen3-style model as bench/generate_vs_hf.py with transformers, saves
it, and times a plain eager loop (logits -> cross-entropy on next tokens -> backward -> clip_grad_norm_ ->
torch.optim.AdamW) on random token batches. Then runs ./build/bin/bench_train on the saved checkpoint with the
same global batch, length and threads (1 rank), and under anvilrun with 2 ranks of threads/2 each, and prints
tokens/s and the ratios.

    ANVIL_JOBS=1 ./scripts/build.sh --target bench_train anvilrun
    /root/.cache/anvil/venv-fixtures/bin/python bench/train_vs_pytorch.py [--batch 8 --seq 128 --steps 6 --threads 2 --repeats 5]

Numbers depend on the machine's load; run it on an idle machine and compare ratios, not absolute values.
"""
import argparse
import os
import re
import statistics
import subprocess
import tempfile
import time

import torch
import torch.nn.functional as F

from bench_model import make_bench_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")


def pytorch_tokens_per_s(model, batch, seq, steps):
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    ids = torch.randint(0, model.config.vocab_size, (batch, seq), generator=torch.Generator().manual_seed(0))

    def step():
        logits = model(ids).logits
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)

    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    return batch * seq * steps / seconds


def anvil_rate(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(l for l in out.splitlines() if "anvil_train" in l)
    print(line.split("] ", 1)[-1])
    return float(re.search(r"tokens_per_s=([0-9.]+)", line).group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=1, help="alternate the measurements this often; report medians")
    ap.add_argument("--bin-dir", default=BIN, help="where bench_train and anvilrun are")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = make_bench_model().train()
    one_ratios, two_ratios = [], []
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        common = ["--model", tmp, "--batch", str(args.batch), "--seq", str(args.seq), "--steps", str(args.steps)]
        for _ in range(args.repeats):
            eager = pytorch_tokens_per_s(model, args.batch, args.seq, args.steps)
            print(f"pytorch_eager tokens_per_s={eager:.1f}")
            one = anvil_rate([os.path.join(args.bin_dir, "bench_train"), *common, "--threads", str(args.threads)])
            two = anvil_rate([os.path.join(args.bin_dir, "anvilrun"), "--standalone", "--nproc-per-node", "2",
                              os.path.join(args.bin_dir, "bench_train"), *common,
                              "--threads", str(max(1, args.threads // 2))])
            one_ratios.append(one / eager)
            two_ratios.append(two / one)
            print(f"ratio anvil/pytorch (1 rank) = {one_ratios[-1]:.2f}")
            print(f"ratio 2 ranks / 1 rank = {two_ratios[-1]:.2f}")
    if args.repeats > 1:
        print(f"median over {args.repeats}: anvil/pytorch = {statistics.median(one_ratios):.2f} "
              f"(min {min(one_ratios):.2f}, max {max(one_ratios):.2f}); "
              f"2 ranks / 1 rank = {statistics.median(two_ratios):.2f}")


if __name__ == "__main__":
    main()
