"""Generation throughput: Anvil's rollout engine vs transformers' generate on the same checkpoint.

Builds a random ~19M-parameter Qwen3-style model with transformers (vocab 32000, hidden 256, 14 layers,
4 heads / 2 KV heads, head_dim 64, tied embeddings), saves it, times `model.generate` (sampling at
temperature 1, no top-k / top-p, no EOS, KV cache on), then runs ./build/bin/bench_generate on the saved
checkpoint with the same batch, prompt length, new tokens and threads, and prints both and the ratio.

    ANVIL_JOBS=1 ./scripts/build.sh --target bench_generate
    /root/.cache/anvil/venv-fixtures/bin/python bench/generate_vs_hf.py [--batch 32 --prompt 64 --new 128 --threads 2 --repeats 5]

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

from bench_model import make_bench_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def hf_tokens_per_s(model, batch, prompt, new, seed):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, model.config.vocab_size, (batch, prompt), generator=gen)
    mask = torch.ones_like(ids)
    kwargs = dict(attention_mask=mask, do_sample=True, temperature=1.0, top_k=None, top_p=None,
                  eos_token_id=None, pad_token_id=0, use_cache=True)
    with torch.no_grad():
        model.generate(ids, max_new_tokens=8, min_new_tokens=8, **kwargs)  # warm-up
        start = time.perf_counter()
        out = model.generate(ids, max_new_tokens=new, min_new_tokens=new, **kwargs)
        seconds = time.perf_counter() - start
    tokens = (out.shape[1] - prompt) * batch
    return tokens / seconds, seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--prompt", type=int, default=64)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, "build", "bin", "bench_generate"))
    ap.add_argument("--repeats", type=int, default=1, help="alternate the measurements this often; report medians")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = make_bench_model().eval()
    params = sum(p.numel() for p in model.parameters())
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        cmd = [args.binary, "--model", tmp, "--batch", str(args.batch), "--prompt", str(args.prompt),
               "--new", str(args.new), "--threads", str(args.threads)]
        for _ in range(args.repeats):
            hf_rate, hf_s = hf_tokens_per_s(model, args.batch, args.prompt, args.new, 0)
            print(f"hf_generate    tokens_per_s={hf_rate:.1f} seconds={hf_s:.3f} params={params}")
            line = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()
            print(line)
            ratios.append(float(re.search(r"tokens_per_s=([0-9.]+)", line).group(1)) / hf_rate)
            print(f"ratio anvil/hf = {ratios[-1]:.2f}")
    if args.repeats > 1:
        print(f"median over {args.repeats}: anvil/hf = {statistics.median(ratios):.2f} "
              f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
