"""Copies the public datasets the real-scale configs use from the shared data folder into data/ (gzip).

  data/gsm8k/train.jsonl.gz, test.jsonl.gz   GSM8K (Cobbe et al. 2021), all rows unchanged; MIT licence.
  data/math/train.jsonl.gz                   MATH train (Hendrycks et al. 2021), 7500 rows: problem, answer
                                             (the last \\boxed{} of the solution), level, type; MIT licence.
  data/math/math500.jsonl.gz                 MATH-500 (Lightman et al. 2023), 500 rows: problem, answer,
                                             subject, level, unique_id.
Run from the repository root: python3 data/make_data.py /work/shared/data   (needs nothing beyond Python)
"""
import gzip
import json
import shutil
import sys
from pathlib import Path

src = Path(sys.argv[1])
dst = Path(__file__).resolve().parent


def read_jsonl(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_gz(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        for r in rows:
            f.write((json.dumps(r, ensure_ascii=False) + "\n").encode())


def last_boxed(text):
    start = text.rfind("\\boxed{")
    if start < 0:
        return None
    i, depth = start + len("\\boxed{"), 1
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return text[i:j]
    return None


write_gz(dst / "gsm8k/train.jsonl.gz", read_jsonl(src / "gsm8k/train.jsonl"))
write_gz(dst / "gsm8k/test.jsonl.gz", read_jsonl(src / "gsm8k/test.jsonl"))
shutil.copy(src / "gsm8k/LICENSE", dst / "gsm8k/LICENSE")
math_train = []
for r in read_jsonl(src / "math/train.jsonl.gz"):
    answer = last_boxed(r["solution"])
    if answer is not None:
        math_train.append({"problem": r["problem"], "answer": answer, "level": r.get("level"), "type": r.get("type")})
write_gz(dst / "math/train.jsonl.gz", math_train)
write_gz(dst / "math/math500.jsonl.gz", [{k: r[k] for k in ("problem", "answer", "subject", "level", "unique_id")}
                                         for r in read_jsonl(src / "math/math500.jsonl")])
shutil.copy(src / "math/LICENSE", dst / "math/LICENSE")
shutil.copy(src / "math/LICENSE-hendrycks-math", dst / "math/LICENSE-hendrycks-math")
print(f"GSM8K train/test and MATH train ({len(math_train)} rows) / MATH-500 written under {dst}")
