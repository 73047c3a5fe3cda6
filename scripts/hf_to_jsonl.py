#!/usr/bin/env python3
"""Convert a Hugging Face dataset export (parquet, CSV, JSON array, arrow) or a hub dataset to the
JSONL that s1c reads: one JSON object per line, every column kept under its own name.

Optional: s1c and its tests never run Python. Parquet needs pyarrow (or pandas), arrow files
pyarrow; CSV and JSON need nothing beyond Python; a hub name needs the `datasets` package. s1c-data pack/curate and s1c-infer then read the fields as they
are: the s1 schema (s1K, the 59K pool), s1K-1.1's deepseek_*/gemini_* fields, TRL's messages,
prompt/completion or text, and the benchmarks' problem/answer or Question/Correct Answer spellings.

  python3 scripts/hf_to_jsonl.py train-00000-of-00001.parquet s1k.jsonl
  python3 scripts/hf_to_jsonl.py gpqa_diamond.csv gpqa_diamond.jsonl
  python3 scripts/hf_to_jsonl.py simplescaling/s1K-1.1 s1k-1.1.jsonl --split train   # needs `datasets`

Values JSON cannot hold are converted: arrays to lists, NaN/NaT to null, timestamps to ISO text,
bytes refused (name the column with --drop to leave it out). Text holding a NUL character is
refused (s1c refuses it too: C strings would end there).
"""
import argparse
import json
import math
import os
import sys


def records_from_file(path):
    ext = os.path.splitext(path)[1].lower()
    try:
        import pyarrow  # noqa: F401
        have_arrow = True
    except ImportError:
        have_arrow = False
    if ext == ".parquet":
        if have_arrow:
            import pyarrow.parquet as pq
            return pq.read_table(path).to_pylist()
        import pandas as pd
        return pd.read_parquet(path).to_dict(orient="records")
    if ext == ".csv":  # the standard library's reader: every value stays the text it was
        import csv
        with open(path, encoding="utf-8-sig", newline="") as f:
            return list(csv.DictReader(f))
    if ext in (".arrow", ".feather"):
        import pyarrow.feather as pf
        return pf.read_table(path).to_pylist()
    if ext in (".json", ".jsonl"):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        stripped = text.lstrip("\ufeff \t\r\n")
        if stripped.startswith("["):
            data = json.loads(stripped)
            if not all(isinstance(r, dict) for r in data):
                sys.exit(f"{path}: a JSON array whose items are not all objects")
            return data
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    sys.exit(f"{path}: unknown extension {ext!r} (expected .parquet, .csv, .json, .jsonl, .arrow)")


def records_from_hub(name, config, split):
    try:
        import datasets
    except ImportError:
        sys.exit(f"{name}: not a file; reading a hub dataset needs the `datasets` package (pip install datasets), "
                 "or download its parquet export and pass that file")
    ds = datasets.load_dataset(name, config, split=split)
    return (dict(r) for r in ds)


def plain(value, where):
    """A value json.dumps writes as standard JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return plain(value.tolist(), where)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, (bytes, bytearray)):
        sys.exit(f"{where}: binary data cannot go in JSONL (--drop the column)")
    if isinstance(value, str) and "\0" in value:
        sys.exit(f"{where}: the text holds a NUL character, which s1c refuses")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="a .parquet/.csv/.json/.jsonl/.arrow file, or a hub dataset name")
    ap.add_argument("output", help="the JSONL file to write")
    ap.add_argument("--split", default="train", help="hub datasets: the split (train)")
    ap.add_argument("--config", default=None, help="hub datasets: the configuration (e.g. gpqa_diamond)")
    ap.add_argument("--drop", action="append", default=[], help="a column to leave out (repeatable)")
    ap.add_argument("--limit", type=int, default=0, help="write only the first N records")
    args = ap.parse_args()
    rows = records_from_file(args.input) if os.path.exists(args.input) else records_from_hub(
        args.input, args.config, args.split)
    tmp = args.output + ".tmp"
    n = 0
    with open(tmp, "w", encoding="utf-8") as out:
        for i, row in enumerate(rows):
            if args.limit and n >= args.limit:
                break
            rec = {k: v for k, v in row.items() if k not in args.drop}
            out.write(json.dumps(plain(rec, f"{args.input}: record {i}"), ensure_ascii=False) + "\n")
            n += 1
    os.replace(tmp, args.output)
    print(f"{args.output}: {n} records", file=sys.stderr)


if __name__ == "__main__":
    main()
