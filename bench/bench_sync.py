"""Sync one question of a 1M-response survey, re-sync it with nothing new, and compare with the usual route.

    .venv/bin/python bench/bench_sync.py [--responses 1000000] [--runs 3] [--json]

The sandbox runs in its own process so that "local work" (CPU seconds of the syncing process: download,
parse, store, score) is measured apart from the server generating the export. Each scenario runs in a fresh
child process so its peak RSS (``ru_maxrss``) is its own:

- ``full sync``: workspace.sync.sync_survey on an empty database (export of QID1 + metadata only);
- ``re-sync``: the same again, continuing from the stored token with no new responses;
- ``baseline``: what users of existing Qualtrics clients do — export every column as CSV, download the
  zip, ``pandas.read_csv`` it whole, then compute NPS from the QID1 column.

Both routes are timed the same way, in the same run: wall seconds end to end (start of the export to the
score) and local CPU seconds of the child process (``time.process_time``), plus peak RSS. ``--runs N`` repeats
the three scenarios N times against one sandbox and reports the median of each figure. The full sync's wall
time is also split by stage (from its progress callbacks): waiting for the export job, download, parse+store,
score.

Targets (2-core machine): full sync <= 10 s local work and <= 300 MB peak, >= 2x faster than the baseline
with no more memory, re-sync with nothing new <= 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEED = 3


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def scenario_sync(db_path: str, survey_id: str) -> dict:
    """Child: one sync of the survey's metric questions into ``db_path``."""
    from workspace import catalog, metrics
    from workspace.config import Settings
    from workspace.connection import open_client
    from workspace.sync import sync_survey

    settings = Settings.load(secrets_path=None)
    if not metrics.list_metrics(settings):
        with open_client(settings) as client:
            catalog.refresh_questions(settings, client, survey_id)
        metrics.create_metric(settings, survey_id, "QID1", "nps")
    from workspace.scores import metric_card

    stages: dict[str, float] = {}

    def progress(stage: str, fraction: float) -> None:
        stages.setdefault(stage, time.perf_counter() - wall)

    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = sync_survey(settings, survey_id, progress=progress)
    except Exception as exc:  # report a broken run as a figure rather than lose the others
        return {"status": "error", "message": f"{type(exc).__name__}: {exc}", "responses": 0, "answers": 0,
                "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "peak_mb": _peak_mb(),
                "nps": None, "n": 0}
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    card = metric_card(settings, metrics.list_metrics(settings)[0].id)  # the score a page shows, untimed
    return {"status": result.status, "message": result.message, "responses": result.responses,
            "answers": result.answers, "wall_s": wall, "cpu_s": cpu,
            "peak_mb": _peak_mb(), "nps": card.score.value, "n": card.n, "stages": _stage_spans(stages, wall)}


def _stage_spans(starts: dict[str, float], total: float) -> dict[str, float]:
    """Seconds from each stage's first progress call to the next stage's (parse and store interleave per
    batch, so they are one span: from the first parsed batch to the score stage)."""
    marks = [("export wait", starts.get("export")), ("download", starts.get("download")),
             ("parse+store", starts.get("parse")), ("score", starts.get("score"))]
    known = [(name, at) for name, at in marks if at is not None]
    return {name: round((known[i + 1][1] if i + 1 < len(known) else total) - at, 3)
            for i, (name, at) in enumerate(known)}


def scenario_baseline(survey_id: str) -> dict:
    """Child: full CSV export of every column, pandas.read_csv, then NPS (the common client route)."""
    import pandas as pd
    import requests

    base, token = os.environ["QUALTRICS_BASE_URL"], os.environ["QUALTRICS_API_TOKEN"]
    api = f"{base}/API/v3/surveys/{survey_id}/export-responses"
    headers = {"X-API-TOKEN": token}
    wall, cpu = time.perf_counter(), time.process_time()
    progress_id = requests.post(api, json={"format": "csv"}, headers=headers, timeout=60).json()["result"]["progressId"]
    while True:
        state = requests.get(f"{api}/{progress_id}", headers=headers, timeout=60).json()["result"]
        if state["status"] == "complete":
            break
        time.sleep(0.5)
    content = requests.get(f"{api}/{state['fileId']}/file", headers=headers, timeout=600).content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        frame = pd.read_csv(archive.open(archive.namelist()[0]), skiprows=[1, 2], low_memory=False)
    scores = pd.to_numeric(frame["Q1"], errors="coerce").dropna()
    nps = ((scores >= 9).sum() - (scores <= 6).sum()) / len(scores) * 100
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "peak_mb": _peak_mb(),
            "nps": float(nps), "n": int(len(scores)), "columns": int(frame.shape[1])}


def _child(kind: str, env: dict, *args: str, script: str = __file__, timeout: float = 1200) -> dict:
    """Run ``script --child kind args`` in a fresh process; its last stdout line is the JSON result."""
    out = subprocess.run([sys.executable, script, "--child", kind, *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat everything N times; figures are medians")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = scenario_baseline(*rest) if kind == "baseline" else scenario_sync(*rest)
        print(json.dumps(result))
        return 0

    from qualtrics.sandbox import Sandbox

    survey_id = Sandbox(seed=SEED, responses=0).survey_ids["nps"]
    server = subprocess.Popen([sys.executable, "-m", "qualtrics.sandbox", "--seed", str(SEED), "--responses",
                               str(args.responses)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    runs = []
    try:
        sb_env = dict(server.stdout.readline().strip().split("=", 1) for _ in range(4))  # type: ignore[union-attr]
        for _ in range(args.runs):
            runs.append(_one_run(sb_env, survey_id))
    finally:
        server.terminate()
        server.wait()

    report = {"responses": args.responses, "runs": runs, "median": _medians(runs)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    _print_report(args.responses, runs, report["median"])
    return 0


def _one_run(sb_env: dict[str, str], survey_id: str) -> dict:
    """Full sync, re-sync (fresh database) and baseline, each in its own child process."""
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        env = {**os.environ, **sb_env, "PULSE_DB": str(Path(tmp) / "pulse.db"), "PULSE_SECRET_KEY": "bench"}
        full = _child("sync", env, env["PULSE_DB"], survey_id)
        again = _child("sync", env, env["PULSE_DB"], survey_id)
        db_mb = sum(p.stat().st_size for p in Path(tmp).glob("pulse.db*")) / 1e6
    baseline = _child("baseline", env, survey_id)
    return {"full_sync": full, "resync": again, "baseline": baseline, "db_mb": db_mb,
            "speedup_cpu": baseline["cpu_s"] / full["cpu_s"], "speedup_wall": baseline["wall_s"] / full["wall_s"]}


def _medians(runs: list[dict]) -> dict:
    """Median of every numeric figure over the runs (each figure on its own)."""
    def median_of(pick):  # type: ignore[no-untyped-def]
        return statistics.median(pick(r) for r in runs)

    out: dict = {}
    for scenario in ("full_sync", "resync", "baseline"):
        keys = [k for k, v in runs[0][scenario].items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        out[scenario] = {k: median_of(lambda r, s=scenario, k=k: r[s][k] or 0.0) for k in keys}
    stage_names = runs[0]["full_sync"].get("stages", {}).keys()
    out["full_sync"]["stages"] = {n: median_of(lambda r, n=n: r["full_sync"]["stages"].get(n, 0.0))
                                  for n in stage_names}
    for key in ("db_mb", "speedup_cpu", "speedup_wall"):
        out[key] = median_of(lambda r, key=key: r[key])
    return out


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _print_report(responses: int, runs: list[dict], med: dict) -> None:
    full, again, base = med["full_sync"], med["resync"], med["baseline"]
    first = runs[0]
    print(f"{responses:,} responses, NPS survey; sandbox in its own process; "
          f"median of {len(runs)} run(s), each scenario in a fresh child process")
    print(f"{'route':<34} {'wall s':>8} {'local CPU s':>12} {'peak MB':>8}   result")
    print(f"{'full sync (our sync_survey)':<34} {full['wall_s']:>8.2f} {full['cpu_s']:>12.2f} {full['peak_mb']:>8.0f}"
          f"   {first['full_sync']['answers']:,} answers stored, NPS {first['full_sync']['nps']:.2f} "
          f"(n = {first['full_sync']['n']:,}), db {med['db_mb']:.0f} MB")
    print(f"{'baseline (all-column CSV+read_csv)':<34} {base['wall_s']:>8.2f} {base['cpu_s']:>12.2f} "
          f"{base['peak_mb']:>8.0f}   {first['baseline']['columns']} columns held in memory, "
          f"NPS {first['baseline']['nps']:.2f} (n = {first['baseline']['n']:,}), nothing stored")
    print(f"{'re-sync, nothing new':<34} {again['wall_s']:>8.3f} {again['cpu_s']:>12.3f} {again['peak_mb']:>8.0f}"
          f"   {first['resync']['responses']} new, {first['resync']['status']}")
    stages = ", ".join(f"{name} {seconds:.2f}" for name, seconds in full["stages"].items())
    print(f"full sync wall by stage (s): {stages}")
    print(f"speed-up vs baseline: {med['speedup_wall']:.2f}x wall, {med['speedup_cpu']:.2f}x local CPU")
    print("targets:")
    print(f"  full sync local work <= 10 s            : {full['cpu_s']:.2f} s  {_verdict(full['cpu_s'] <= 10)}")
    print(f"  full sync peak <= 300 MB                : {full['peak_mb']:.0f} MB  {_verdict(full['peak_mb'] <= 300)}")
    print(f"  >= 2x faster than baseline, wall        : {med['speedup_wall']:.2f}x  "
          f"{_verdict(med['speedup_wall'] >= 2)}")
    print(f"  >= 2x faster than baseline, local CPU   : {med['speedup_cpu']:.2f}x  "
          f"{_verdict(med['speedup_cpu'] >= 2)}")
    print(f"  peak no more than baseline              : {full['peak_mb']:.0f} vs {base['peak_mb']:.0f} MB  "
          f"{_verdict(full['peak_mb'] <= base['peak_mb'])}")
    print(f"  re-sync with nothing new <= 0.5 s wall  : {again['wall_s']:.3f} s  {_verdict(again['wall_s'] <= 0.5)}")


if __name__ == "__main__":
    raise SystemExit(main())
