"""Labelling speed and memory, measured side by side on this machine.

Speed: the same model and passages through (a) the plain ``transformers.pipeline
("text-classification")``, (b) framing's path in full precision (length-sorted batches,
dynamic padding, inference mode) and (c) framing's opt-in int8 path. It reports
passages per second, the speed-up over (a), how often (c) agrees with (b), and the
achieved GFLOP/s as a fraction of this machine's measured float32 matrix-multiply peak.
Memory: peak RSS of `framing label` on tables of 10,000 and 100,000 passages.

    python scripts/bench_label.py [--model DIR] [--passages 1000] [--memory 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmarks import ROOT, machine, run_measured, table, write_section

from framing.modeling import FramingClassifier


def corpus_texts(n: int) -> list[str]:
    rows = [
        json.loads(line)
        for line in (ROOT / "data" / "corpus" / "corpus.jsonl").read_text().splitlines()
    ]
    texts = [r["text"] for r in rows]
    return [texts[i % len(texts)] for i in range(n)]


def matmul_peak_gflops(seconds: float = 3.0, size: int = 1024) -> float:
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    runs, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        runs += 1
    return 2 * size**3 * runs / (time.perf_counter() - started) / 1e9


def model_flops(classifier: FramingClassifier, texts: list[str]) -> float:
    """Forward FLOPs: 2 x non-embedding parameters per token, plus attention's 4 n^2 h per layer."""
    config = classifier.model.config
    params = sum(
        p.numel() for name, p in classifier.model.named_parameters() if "embeddings" not in name
    )
    params = (
        params or 21_000_000
    )  # a quantised model hides its linear weights; this model has ~21M outside embeddings
    enc = classifier.tokenizer(
        texts,
        truncation=True,
        max_length=classifier.max_length,
        stride=classifier.stride,
        return_overflowing_tokens=True,
    )
    lengths = np.array([len(ids) for ids in enc["input_ids"]], dtype=float)
    return float(
        (
            2 * params * lengths + 4 * config.num_hidden_layers * config.hidden_size * lengths**2
        ).sum()
    )


def speed(model: str | None, n: int) -> str:
    from transformers import pipeline

    torch.set_num_threads(torch.get_num_threads())
    texts = corpus_texts(n)
    full = FramingClassifier.from_pretrained(model, backend="torch")
    int8 = FramingClassifier.from_pretrained(model, backend="int8")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # the pipeline does not know the model class by name; it runs it all the same
    plain = pipeline("text-classification", model=full.model, tokenizer=full.tokenizer, device=-1)

    started = time.perf_counter()
    plain_out = plain(texts, truncation=True, max_length=full.max_length)
    t_plain = time.perf_counter() - started
    started = time.perf_counter()
    p_full = full.predict_proba(texts)
    t_full = time.perf_counter() - started
    started = time.perf_counter()
    p_int8 = int8.predict_proba(texts)
    t_int8 = time.perf_counter() - started

    labels_full = p_full.argmax(axis=1)
    agree_int8 = float((p_int8.argmax(axis=1) == labels_full).mean())
    agree_plain = float(
        np.mean(
            [
                full.scheme.label2id[o["label"]] == y
                for o, y in zip(plain_out, labels_full, strict=True)
            ]
        )
    )
    flops = model_flops(full, texts)
    peak = matmul_peak_gflops()
    rows = [
        [
            "transformers.pipeline (baseline)",
            f"{n / t_plain:.1f}",
            "1.00x",
            f"{flops / t_plain / 1e9:.1f}",
            f"{flops / t_plain / 1e9 / peak:.1%}",
            f"{agree_plain:.2%}",
        ],
        [
            "framing, torch float32 (default)",
            f"{n / t_full:.1f}",
            f"{t_plain / t_full:.2f}x",
            f"{flops / t_full / 1e9:.1f}",
            f"{flops / t_full / 1e9 / peak:.1%}",
            "100% (reference)",
        ],
        [
            "framing, int8 (opt-in)",
            f"{n / t_int8:.1f}",
            f"{t_plain / t_int8:.2f}x",
            f"{flops / t_int8 / 1e9:.1f}",
            f"{flops / t_int8 / 1e9 / peak:.1%}",
            f"{agree_int8:.2%}",
        ],
    ]
    header = [
        "path",
        "passages/s",
        "speed-up",
        "GFLOP/s",
        "of fp32 peak",
        "labels agree with float32",
    ]
    print(table(header, rows))
    return (
        f"### Speed ({n} corpus passages, same model, one run)\n\n"
        + table(header, rows)
        + f"\n\nMeasured float32 matrix-multiply peak (1024x1024 `torch.mm`): {peak:.1f} GFLOP/s. "
        f"Model work: {flops / 1e9:.0f} GFLOP for these passages (2 FLOPs per non-embedding parameter per token, plus attention). "
        "int8 runs its linear layers in 8-bit integers, so its fraction of the float32 peak is a like-for-like measure of work done, not of int8 peak. "
        "The pipeline truncates passages longer than the window where framing averages overlapping windows; that is the only "
        "source of label differences between the baseline and framing's float32 path.\n"
    )


def memory(model: str | None, sizes: list[int], backend: str) -> str:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "passages.jsonl"
            with data.open("w") as handle:
                for i, text in enumerate(corpus_texts(n)):
                    handle.write(json.dumps({"id": i, "text": text}) + "\n")
            command = [
                str(Path(sys.executable).parent / "framing"),
                "label",
                str(data),
                "--id-column",
                "id",
                "--out",
                str(Path(tmp) / "out"),
                "--quiet",
                "--backend",
                backend,
                "--documents-per-part",
                "256",
            ]
            if model:
                command += ["--model", model]
            seconds, peak = run_measured(command, log=Path(tmp) / "log.txt")
            rows.append([f"{n:,}", f"{seconds:.0f}", f"{n / seconds:.1f}", f"{peak:.0f}"])
            print(rows[-1], flush=True)
    ratio = float(rows[-1][3]) / float(rows[0][3]) if len(rows) > 1 else 1.0
    return (
        f"### Memory (`framing label --backend {backend}` on a table of N passages, peak RSS of the process)\n\n"
        + table(["passages", "seconds", "passages/s", "peak RSS (MB)"], rows)
        + (
            f"\n\nPeak RSS at {rows[-1][0]} passages is {ratio:.2f}x the figure at {rows[0][0]}.\n"
            if len(rows) > 1
            else "\n"
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="model folder (default: the shipped model)")
    parser.add_argument(
        "--passages", type=int, default=1000, help="passages for the speed comparison"
    )
    parser.add_argument(
        "--memory", default="10000,100000", help="table sizes for the memory runs ('' to skip)"
    )
    parser.add_argument(
        "--memory-backend",
        default="torch",
        choices=["torch", "int8"],
        help="backend of the memory runs",
    )
    args = parser.parse_args()
    body = f"## Labelling (`scripts/bench_label.py`)\n\nMachine: {machine()}.\n\n" + speed(
        args.model, args.passages
    )
    if args.memory:
        body += "\n" + memory(
            args.model, [int(s) for s in args.memory.split(",")], args.memory_backend
        )
    write_section("label", body)
    print("written to docs/benchmarks.md")


if __name__ == "__main__":
    main()
