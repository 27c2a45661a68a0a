#!/usr/bin/env python3
"""HF `tokenizers` half of bench/tokenizer_bench.cpp: encodes the benchmark's documents (one JSON string per line)
with the tokenizer of a checkpoint directory, single-threaded (`encode` in a loop, like Anvil's measurement) and
batched (`encode_batch`, HF's Rust thread pool), and prints one JSON line per mode with MB/s and tokens/s.

    python bench/tokenizer_bench_hf.py TOKENIZER_DIR CORPUS_JSONL
"""
import gzip
import json
import os
import sys
import time
from pathlib import Path


def load(directory):
    from tokenizers import Tokenizer
    path = Path(directory) / "tokenizer.json"
    if path.exists():
        return Tokenizer.from_file(str(path))
    return Tokenizer.from_str(gzip.decompress((Path(directory) / "tokenizer.json.gz").read_bytes()).decode("utf-8"))


def measure(name, encode_all, tok, docs, total):
    t = time.perf_counter()
    ids = encode_all(docs)
    cold = total / 1e6 / (time.perf_counter() - t)
    reps = 3
    t = time.perf_counter()
    tokens = 0
    for _ in range(reps):
        tokens += sum(len(x) for x in encode_all(docs))
    warm = time.perf_counter() - t
    t = time.perf_counter()
    out = sum(len(tok.decode(x).encode("utf-8")) for x in ids)
    decode = out / 1e6 / (time.perf_counter() - t)
    print(json.dumps({"name": name, "cold_mb_s": cold, "warm_mb_s": total * reps / 1e6 / warm,
                      "tokens_per_s": tokens / warm, "decode_mb_s": decode, "tokens": tokens // reps}))


def main():
    directory, corpus = sys.argv[1], sys.argv[2]
    docs = [json.loads(line) for line in open(corpus, encoding="utf-8")]
    total = sum(len(d.encode("utf-8")) for d in docs)
    tok = load(directory)
    measure("HF tokenizers (1 thr)", lambda ds: [tok.encode(d, add_special_tokens=False).ids for d in ds], tok, docs, total)
    tok = load(directory)
    measure(f"HF encode_batch ({os.cpu_count()} thr)",
            lambda ds: [e.ids for e in tok.encode_batch(ds, add_special_tokens=False)], tok, docs, total)


if __name__ == "__main__":
    main()
