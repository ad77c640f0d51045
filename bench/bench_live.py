"""Live wall screens in real browsers: vote -> screen latency as the wall's JavaScript renders it, at a few screens.

How many screens one app process holds is measured by ``bench/load.py --scenario wall`` (websocket-level
sessions): here each screen is a headless Chromium context, and on a 2-core machine ten of them starve the
CPU the server needs, so this bench is the browser-side cross-check of load.py's figures at small counts
(what a screen shows includes the component's own update, which load.py does not run).

    .venv/bin/python bench/bench_live.py [--screens 1,5] [--votes 10] [--window 20] [--json]

The real app (`streamlit run app.py`, embedded sandbox, loopback only) with the demo journey of
scripts/screenshots.py. For each screen count K (screens are added, never reopened), K headless Chromium
contexts show the wall view (`/live?journey=N&wall=1`); then:

- refresh: over ``--window`` seconds, the gaps between a screen's updates (the wall's component records the
  browser time of each update it receives) — the wall asks every second;
- vote -> screen: ``--votes`` answers posted to the survey link through the app's URL, as a phone does
  (pushed to the app by the sandbox, fetched, stored), each until every screen shows the new count; the
  latency is the browser time the count moved minus the time the answer was posted (one clock);
- server CPU: the app process's CPU seconds per wall second meanwhile (/proc).

A process *holds* K screens when the p95 refresh gap stays <= 2 s (every screen refreshed at least every two
seconds). Target: >= 20 screens held; vote -> screen p95 is reported beside it. Bounded: every wait has a
deadline, at most the listed screen counts are opened.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qualtrics.sandbox import Sandbox  # noqa: E402
from scripts.appserver import CHROMIUM, CHROMIUM_ARGS, AppServer  # noqa: E402
from scripts.screenshots import build_demo, connect  # noqa: E402

HELD_P95_GAP = 2.0
TARGET_SCREENS = 20
STATE = "() => { const w = document.querySelector('.jp-wall'); return w && w.__state ? " \
        "{renders: w.__state.renders || [], log: w.__state.answeredLog || []} : null; }"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children that were waited for (seconds)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_screen(browser, url: str, journey_id: int):
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.on("pageerror", lambda error: print(f"page error: {error}", file=sys.stderr))
    page.goto(f"{url}/live?journey={journey_id}&wall=1")
    try:
        page.locator(".jp-wall .card").first.wait_for()
    except Exception:
        page.screenshot(path=str(Path(tempfile.gettempdir()) / "bench_live_failed.png"))
        raise
    return context, page


def measure(pages: list, url: str, survey_id: str, pid: int, votes: int, window: float) -> dict:
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    time.sleep(window)
    now_ms = time.time() * 1000
    gaps = []
    for page in pages:
        renders = [r for r in page.evaluate(STATE)["renders"] if r >= now_ms - window * 1000]
        gaps.extend((b - a) / 1000 for a, b in zip(renders, renders[1:]))
    latencies = []
    for _ in range(votes):
        before = [page.evaluate(STATE)["log"][-1][1] for page in pages]
        posted_ms = time.time() * 1000
        answer = requests.post(f"{url}/jfe/form/{survey_id}", data={"QID1": "8"}, allow_redirects=False, timeout=30)
        assert answer.status_code == 303, answer.status_code
        deadline = time.monotonic() + 30
        pending = dict(enumerate(pages))
        while pending and time.monotonic() < deadline:
            for i, page in list(pending.items()):
                moved = [t for t, n in page.evaluate(STATE)["log"] if n > before[i] and t >= posted_ms]
                if moved:
                    latencies.append((moved[0] - posted_ms) / 1000)
                    del pending[i]
            time.sleep(0.05)
        latencies.extend([float("inf")] * len(pending))
    cpu = (cpu_seconds(pid) - cpu0) / (time.monotonic() - wall0)
    return {"screens": len(pages), "refresh_gap_p50": percentile(gaps, 0.5), "refresh_gap_p95": percentile(gaps, 0.95),
            "vote_to_screen_p50": percentile(latencies, 0.5), "vote_to_screen_p95": percentile(latencies, 0.95),
            "server_cpu_per_second": cpu, "held": percentile(gaps, 0.95) <= HELD_P95_GAP}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--screens", default="1,5", help="screen counts to measure, ascending")
    parser.add_argument("--votes", type=int, default=10)
    parser.add_argument("--window", type=float, default=20.0, help="seconds of refreshes measured per count")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = sorted({int(c) for c in args.screens.split(",") if c.strip()})
    survey_id = Sandbox(seed=7).survey_ids["nps"]
    rows = []
    with tempfile.TemporaryDirectory() as data:
        server = AppServer(Path(data), {"PULSE_DATABASE_URL": ""}).start()  # a throwaway SQLite demo
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                setup = browser.new_page()
                setup.set_default_timeout(60_000)
                connect(setup, server.url)
                journey_id, _ = build_demo(server.url, server.env["PULSE_DB"])
                setup.close()
                screens: list = []
                for count in counts:
                    while len(screens) < count:
                        screens.append(open_screen(browser, server.url, journey_id))
                    time.sleep(3)  # the newest screens settle
                    row = measure([page for _, page in screens], server.url, survey_id, server.process.pid,
                                  args.votes, args.window)
                    rows.append(row)
                    if not args.json:
                        print(f"{row['screens']:>3} screens: refresh gap p50 {row['refresh_gap_p50']:.2f} s "
                              f"p95 {row['refresh_gap_p95']:.2f} s | vote -> screen p50 "
                              f"{row['vote_to_screen_p50']:.2f} s p95 {row['vote_to_screen_p95']:.2f} s | "
                              f"server CPU {row['server_cpu_per_second']:.2f} s/s | "
                              f"{'held' if row['held'] else 'NOT held'}", flush=True)
                for context, _ in screens:
                    context.close()
                browser.close()
        finally:
            server.stop()
    held = max((r["screens"] for r in rows if r["held"]), default=0)
    summary = {"rows": rows, "screens_held": held, "target_screens": TARGET_SCREENS,
               "target_met": held >= TARGET_SCREENS, "cpus": os.cpu_count(),
               "load_average": os.getloadavg()[0]}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"screens held at p95 refresh gap <= {HELD_P95_GAP:.0f} s: {held} (target >= {TARGET_SCREENS}: "
              f"{'met' if summary['target_met'] else 'NOT met'}); load average {summary['load_average']:.1f} "
              f"on {summary['cpus']} CPUs")


if __name__ == "__main__":
    main()
