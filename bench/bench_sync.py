"""Sync one question of a 1M-response survey, re-sync it with nothing new, and compare with the usual route.

    .venv/bin/python bench/bench_sync.py [--responses 1000000] [--json]

The sandbox runs in its own process so that "local work" (CPU seconds of the syncing process: download,
parse, store, score) is measured apart from the server generating the export. Each scenario runs in a fresh
child process so its peak RSS (``ru_maxrss``) is its own:

- ``full sync``: workspace.sync.sync_survey on an empty database (export of QID1 + metadata only);
- ``re-sync``: the same again, continuing from the stored token with no new responses;
- ``baseline``: what users of existing Qualtrics clients do — export every column as CSV, download the
  zip, ``pandas.read_csv`` it whole, then compute NPS from the QID1 column.

Targets (2-core machine): full sync <= 10 s local work and <= 300 MB peak, >= 2x faster than the baseline
with no more memory, re-sync with nothing new <= 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
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

    wall, cpu = time.perf_counter(), time.process_time()
    try:
        result = sync_survey(settings, survey_id)
    except Exception as exc:  # report a broken run as a figure rather than lose the others
        return {"status": "error", "message": f"{type(exc).__name__}: {exc}", "responses": 0, "answers": 0,
                "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "peak_mb": _peak_mb(),
                "nps": None, "n": 0}
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    card = metric_card(settings, metrics.list_metrics(settings)[0].id)  # the score a page shows, untimed
    return {"status": result.status, "message": result.message, "responses": result.responses,
            "answers": result.answers, "wall_s": wall, "cpu_s": cpu,
            "peak_mb": _peak_mb(), "nps": card.score.value, "n": card.n}


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


def _child(kind: str, env: dict, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, *args], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=1200)
    if out.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=1_000_000)
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
    try:
        sb_env = dict(server.stdout.readline().strip().split("=", 1) for _ in range(4))  # type: ignore[union-attr]
        with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
            env = {**os.environ, **sb_env, "PULSE_DB": str(Path(tmp) / "pulse.db"), "PULSE_SECRET_KEY": "bench"}
            full = _child("sync", env, env["PULSE_DB"], survey_id)
            again = _child("sync", env, env["PULSE_DB"], survey_id)
            db_mb = sum(p.stat().st_size for p in Path(tmp).glob("pulse.db*")) / 1e6
        baseline = _child("baseline", env, survey_id)
    finally:
        server.terminate()
        server.wait()

    report = {"responses": args.responses, "full_sync": full, "resync": again, "baseline": baseline,
              "db_mb": db_mb, "speedup_local": baseline["cpu_s"] / full["cpu_s"],
              "speedup_wall": baseline["wall_s"] / full["wall_s"]}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"{args.responses:,} responses, one question (NPS QID1); sandbox in its own process")
    print(f"full sync : {full['cpu_s']:.2f} s local work, {full['wall_s']:.2f} s wall, peak {full['peak_mb']:.0f} MB, "
          f"{full['answers']:,} answers stored, NPS {full['nps']:.2f} (n = {full['n']:,}), db {db_mb:.0f} MB")
    print(f"re-sync   : {again['wall_s']:.3f} s wall ({again['cpu_s']:.3f} s local), {again['responses']} new, "
          f"{again['status']}{': ' + again['message'] if again['message'] else ''}")
    print(f"baseline  : {baseline['cpu_s']:.2f} s local work, {baseline['wall_s']:.2f} s wall, peak "
          f"{baseline['peak_mb']:.0f} MB, {baseline['columns']} columns, NPS {baseline['nps']:.2f} (n = {baseline['n']:,})")
    print(f"speed-up  : {report['speedup_local']:.1f}x local work, {report['speedup_wall']:.1f}x wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
