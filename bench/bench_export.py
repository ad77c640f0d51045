"""Export-parse throughput and peak memory of the Qualtrics client, against the sandbox over real HTTP.

    .venv/bin/python bench/bench_export.py                      # 100k and 1M NPS responses, csv/ndjson/json
    .venv/bin/python bench/bench_export.py --sizes 100000 --formats csv

For each size the sandbox runs as its own process (``python -m qualtrics.sandbox --responses N``) so its memory
never mixes with the client's. For each format the export is fetched once (start, poll, download: timed), then
parsed twice with ``read_export_file`` (what ``Export.batches()`` runs), discarding each batch like a sync that
stores and moves on:

1. timed, with RSS sampled every 5 ms by psutil (peak RSS growth over the pre-parse baseline; the very first
   parse of the run is preceded by an untimed warm-up so one-off allocator/import costs are not counted);
2. under tracemalloc (peak of traced Python + numpy allocations; slower, so not timed).

"Flat memory" shows as peak figures that stay put from 100k to 1M responses. Results are printed and written to
bench/results/bench_export.json (git-ignored).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qualtrics.client import QualtricsClient  # noqa: E402
from qualtrics.export import PollPolicy  # noqa: E402
from qualtrics.exportfile import DEFAULT_BATCH_ROWS, read_export_file  # noqa: E402

MB = 1024 * 1024


@contextmanager
def sandbox_process(responses: int) -> Iterator[dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "qualtrics.sandbox", "--responses", str(responses)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    env: dict[str, str] = {}
    try:
        assert proc.stdout is not None
        while len(env) < 4:
            line = proc.stdout.readline()
            if not line:
                raise RuntimeError(f"sandbox exited: {proc.stderr.read() if proc.stderr else ''}")
            key, _, value = line.strip().partition("=")
            env[key] = value
        yield env
    finally:
        proc.terminate()
        proc.wait(timeout=20)


class RssPeak:
    """Samples this process's RSS in a thread; ``growth`` is the peak above the baseline taken at start."""

    def __init__(self, interval: float = 0.005) -> None:
        self.process = psutil.Process()
        self.interval = interval
        self.baseline = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> "RssPeak":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def consume(path: Path, question_id: str) -> int:
    rows = 0
    for batch in read_export_file(path, [question_id]):
        rows += len(batch)
    return rows


def measure(client: QualtricsClient, survey_id: str, question_id: str, fmt: str, workdir: Path,
            warm_up: bool) -> dict:
    export = client.export_responses(survey_id, [question_id], fmt=fmt)
    started = time.perf_counter()
    path = export.fetch(workdir)
    fetch_s = time.perf_counter() - started

    if warm_up:  # first parse of the run pays one-off allocator and import costs; keep them out of the figures
        consume(path, question_id)
    gc.collect()
    with RssPeak() as rss:
        started = time.perf_counter()
        rows = consume(path, question_id)
        parse_s = time.perf_counter() - started

    gc.collect()
    tracemalloc.start()
    consume(path, question_id)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "format": fmt, "responses": rows, "file_mb": round(path.stat().st_size / MB, 2),
        "fetch_s": round(fetch_s, 2), "parse_s": round(parse_s, 2),
        "parse_responses_per_s": round(rows / parse_s), "end_to_end_responses_per_s": round(rows / (fetch_s + parse_s)),
        "peak_rss_growth_mb": round(rss.growth / MB, 1), "tracemalloc_peak_mb": round(traced_peak / MB, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "ndjson", "json"], choices=["csv", "ndjson", "json"])
    args = parser.parse_args()
    results = []
    print(f"batch size {DEFAULT_BATCH_ROWS:,} rows; python {sys.version.split()[0]}; {psutil.cpu_count()} CPUs")
    header = (f"{'responses':>10} {'format':>7} {'file MB':>8} {'fetch s':>8} {'parse s':>8} {'parse resp/s':>13} "
              f"{'e2e resp/s':>11} {'peak RSS +MB':>13} {'tracemalloc MB':>15}")
    print(header)
    for size in args.sizes:
        with sandbox_process(size) as env, tempfile.TemporaryDirectory() as tmp:
            client = QualtricsClient.with_api_token(env["QUALTRICS_BASE_URL"], env["QUALTRICS_API_TOKEN"],
                                                    poll=PollPolicy(initial=0.05, maximum=0.5, deadline=600))
            nps = next(s for s in client.surveys() if "NPS" in s.name)
            question = client.questions(nps.id)[0].id
            for fmt in args.formats:
                r = {"size": size, **measure(client, nps.id, question, fmt, Path(tmp), warm_up=not results)}
                results.append(r)
                print(f"{r['responses']:>10,} {fmt:>7} {r['file_mb']:>8} {r['fetch_s']:>8} {r['parse_s']:>8} "
                      f"{r['parse_responses_per_s']:>13,} {r['end_to_end_responses_per_s']:>11,} "
                      f"{r['peak_rss_growth_mb']:>13} {r['tracemalloc_peak_mb']:>15}", flush=True)
                for leftover in Path(tmp).iterdir():
                    leftover.unlink()
    out = ROOT / "bench" / "results" / "bench_export.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
