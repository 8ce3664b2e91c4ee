"""Shared helpers of the benchmark scripts: timing, memory, and docs/benchmarks.md sections.

Each benchmark rewrites its own section of docs/benchmarks.md (between markers), so the
file always holds the latest run of every benchmark side by side.
"""

from __future__ import annotations

import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    import torch

    return f"{platform.processor() or platform.machine()}, {psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, torch {torch.__version__}, {torch.get_num_threads()} threads"


def run_measured(command: list[str], *, log: Path | None = None) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MB of it and its children, sampled every 0.1 s)."""
    started = time.perf_counter()
    with log.open("w") if log else subprocess.DEVNULL as out:  # type: ignore[union-attr]
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        peak = [0.0]

        def sample() -> None:
            parent = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    rss = sum(
                        p.memory_info().rss for p in [parent, *parent.children(recursive=True)]
                    )
                    peak[0] = max(peak[0], rss / 2**20)
                except psutil.Error:
                    pass
                time.sleep(0.1)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        code = proc.wait()
        watcher.join()
    if code != 0:
        sys.exit(
            f"benchmark command failed ({code}): {' '.join(command)}"
            + (f"; see {log}" if log else "")
        )
    return time.perf_counter() - started, peak[0]


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section ``name`` of docs/benchmarks.md."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.is_file() else "# Benchmarks\n"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
