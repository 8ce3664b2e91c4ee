"""Labelling speed and memory, measured side by side on this machine.

Speed: the same model and passages through (a) the plain ``transformers.pipeline
("text-classification")``, (b) framing's path (length-sorted batches, dynamic padding, inference mode) in float32,
bfloat16 and int8. It reports passages per second, the speed-up over (a), how often each
path's labels agree with float32, and the
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

from framing.modeling import BACKENDS, FramingClassifier, choose_backend, native_bfloat16


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
    from transformers.utils import logging as hf_logging

    texts = corpus_texts(n)
    default = choose_backend("auto", torch.device("cpu"))
    backends = {
        name: FramingClassifier.from_pretrained(model, backend=name) for name in BACKENDS[1:]
    }
    full = backends["float32"]
    hf_logging.set_verbosity_error()  # the pipeline does not know the model class by name; it runs it all the same
    plain = pipeline("text-classification", model=full.model, tokenizer=full.tokenizer, device=-1)

    started = time.perf_counter()
    plain_out = plain(texts, truncation=True, max_length=full.max_length)
    seconds = {"pipeline": time.perf_counter() - started}
    labels = {
        "pipeline": np.array([full.scheme.label2id[o["label"]] for o in plain_out]),
    }
    for name, classifier in backends.items():
        started = time.perf_counter()
        labels[name] = classifier.predict_proba(texts).argmax(axis=1)
        seconds[name] = time.perf_counter() - started

    flops = model_flops(full, texts)
    peak = matmul_peak_gflops()
    rows = []
    for name, elapsed in seconds.items():
        title = "transformers.pipeline (baseline)" if name == "pipeline" else f"framing, {name}"
        if name == default:
            title += " (default here)"
        agree = float((labels[name] == labels["float32"]).mean())
        rows.append(
            [
                title,
                f"{n / elapsed:.1f}",
                f"{seconds['pipeline'] / elapsed:.2f}x",
                f"{flops / elapsed / 1e9:.1f}",
                f"{flops / elapsed / 1e9 / peak:.1%}",
                "reference" if name == "float32" else f"{agree:.2%}",
            ]
        )
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
        "bfloat16 and int8 run the encoder's matrix multiplies in 16-bit floats and 8-bit integers, so their "
        "fraction of the float32 peak is a like-for-like measure of work done and can pass 100%. "
        f"`--backend auto` chooses {default} on this machine ({'it has' if native_bfloat16() else 'it lacks'} native bfloat16). "
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
    peak = float(rows[-1][3])
    verdict = (
        f"Targets: peak RSS at most 1,500 MB at the largest size ({peak:.0f} MB: "
        f"{'met' if peak <= 1500 else 'missed'}), and within 10% of the smallest size's figure "
        f"({ratio:.2f}x: {'met' if ratio <= 1.10 else 'missed'}).\n"
    )
    return (
        f"### Memory (`framing label --backend {backend}` on a table of N passages, peak RSS of the process)\n\n"
        + table(["passages", "seconds", "passages/s", "peak RSS (MB)"], rows)
        + (
            f"\n\nPeak RSS at {rows[-1][0]} passages is {ratio:.2f}x the figure at {rows[0][0]}. "
            + verdict
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
        default="auto",
        choices=list(BACKENDS),
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
