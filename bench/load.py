"""Load figures: how many concurrent sessions one app server (or two behind nginx) holds, memory per session,
and the Live vote -> screen latency on wall screens.

    .venv/bin/python bench/load.py [--scenario pages,wall] [--servers 1|2] [--sessions 1,10,20,40]
                                   [--window 30] [--votes 10] [--url URL --journey N] [--json] [--results]

Sessions are websocket-level Streamlit clients (bench/streamlit_client.py), not browsers: a headless
Chromium context costs about a core here, which is what the server gets to run on. Without ``--url`` the
bench starts its own app (scripts/appserver.py, embedded sandbox, loopback) with the demo journey of
scripts/screenshots.py (3 stages, 6 steps, 8 synced metrics); with ``--servers 2`` a second app server on
the same store, reaching the first one's sandbox, and nginx in front of both with the sticky upstream of
deploy/nginx/journey-pulse.conf (generated in a temp folder at run time; Debian's nginx must be installed).
PULSE_DATABASE_URL and PULSE_WORKER pass through to the app servers when set.

Scenarios, for each session count N (sessions are added, never reopened):

- ``pages``: N sessions on the journey page (``/?journey=J``), each clicking every 5 s (a rerun of the page,
  at a random phase; a click waits for the previous one to finish, as a person does). Rerun latency = the
  rerun request sent -> its run's ``script_finished``. N is *held* when rerun p95 <= 1 s. Memory per session =
  (servers' RSS with N sessions - RSS before the first session) / N.
- ``wall``: N wall screens (``/live?journey=J&wall=1``) whose fragment the client reruns on the clock the
  page asks for (``run_every``), as the browser does. Refresh gap = time between a screen's consecutive
  board updates (and from the window's edges to its first and last, so a starved screen counts); N is *held*
  when the p95 gap <= 2 s. Vote -> screen: ``--votes`` answers posted to the survey
  link through the app's URL as a phone does (HTTP POST of the sandbox's form), each timed until every
  screen's decoded board shows the new "answered" count; p50/p95 over votes x screens. Server CPU = the app
  processes' CPU seconds per wall second meanwhile.

Bounded: every wait has a deadline (a rerun that takes longer than ``--rerun-timeout`` counts as not held);
after the first N that is not held, larger N are skipped unless ``--all-sizes``. ``--results`` writes the
figures into bench/RESULTS.md's load section (one block per scenario and server count).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import math
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.streamlit_client import Session, SessionError, Shown  # noqa: E402
from qualtrics.sandbox import Sandbox  # noqa: E402
from scripts.appserver import CHROMIUM, CHROMIUM_ARGS, AppServer, free_port, stop_process, wait_healthy  # noqa: E402

HELD_RERUN_P95 = 1.0
HELD_GAP_P95 = 2.0
CLICK_PERIOD = 5.0
NGINX_TEMPLATE = ROOT / "deploy" / "nginx" / "journey-pulse.conf"
RESULTS = ROOT / "bench" / "RESULTS.md"
LOAD_SECTION = "## Load: concurrent sessions (bench/load.py)"
PASSED_THROUGH = ("PULSE_WORKER",)  # PULSE_DATABASE_URL: AppServer passes it on itself
WALL_COMPONENT = "live_wall"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else float("nan")


# -- what runs: app servers, nginx ---------------------------------------------------------------------------


def nginx_config(template: str, upstreams: list[int], port: int, prefix: Path) -> str:
    """A whole nginx.conf that runs deploy/nginx's site file with ``upstreams`` and ``port`` in a temp prefix."""
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    site, count = re.subn(r"(upstream journey_pulse \{\n(?:.*\n)*?)((?:    server [^\n]*\n)+)",
                          lambda m: m.group(1) + servers, template)
    site, listens = re.subn(r"listen \d+;", f"listen 127.0.0.1:{port};", site)
    if count != 1 or listens != 1:
        raise ValueError(f"{NGINX_TEMPLATE} has no single upstream with server lines and listen line to fill in")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers write temp files in the root-owned prefix
    temps = "".join(f"    {kind}_temp_path {prefix / kind};\n" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    return (f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\nerror_log {prefix / 'error.log'} warn;\n"
            f"events {{ worker_connections 4096; }}\nhttp {{\n    access_log off;\n{temps}{site}}}\n")


class Nginx:
    """nginx in the foreground on a free loopback port, before the given app server ports."""

    def __init__(self, prefix: Path, upstreams: list[int]) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(self.binary).exists():
            raise SystemExit("nginx is not installed: `apt-get install -y nginx` (Debian), then run again")
        self.prefix, self.port = prefix, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        prefix.mkdir(parents=True, exist_ok=True)
        self.conf = prefix / "nginx.conf"
        self.conf.write_text(nginx_config(NGINX_TEMPLATE.read_text(), upstreams, self.port, prefix))
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "Nginx":
        args = [self.binary, "-p", str(self.prefix), "-c", str(self.conf), "-e", str(self.prefix / "error.log"),
                "-g", "daemon off;"]
        test = subprocess.run([*args[:-2], "-t"], capture_output=True, text=True, timeout=timeout)
        if test.returncode != 0:
            raise RuntimeError(f"nginx refused its config:\n{test.stderr}")
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if wait_healthy(self.process, f"{self.url}/api/health", timeout):
            return self
        self.stop()
        raise RuntimeError(f"nginx did not pass /api/health on: {(self.prefix / 'error.log').read_text()[-2000:]}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


@dataclasses.dataclass
class Target:
    """Where the sessions go (``url``), where phones post answers (``form_url``), the app processes."""

    url: str
    form_url: str
    journey_id: int
    survey_id: str
    pids: list[int]
    ports: list[int]
    mode: str


def passed_through() -> dict[str, str]:
    return {name: os.environ[name] for name in PASSED_THROUGH if os.environ.get(name)}


def demo_journey(server: AppServer) -> int:
    """Connect the app's integration through its consent page and build scripts/screenshots.py's demo journey
    (one headless Chromium page for the consent, closed before anything is measured)."""
    from playwright.sync_api import sync_playwright

    from scripts.screenshots import build_demo, connect

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(120_000)
            connect(page, server.url)
        finally:
            browser.close()
    journey_id, _ = build_demo(server.url, server.env["PULSE_DB"], server.database_url)
    return journey_id


@contextlib.contextmanager
def started(servers: int, data: Path) -> Iterator[Target]:
    """The app (and with ``servers=2`` a second app server and nginx) with the demo journey, stopped after."""
    from workspace.config import Settings
    from workspace.integration import running_sandbox

    stack = contextlib.ExitStack()
    with stack:
        (data / "a").mkdir()
        first = AppServer(data / "a", passed_through())
        stack.callback(first.stop)
        first.start()
        journey_id = demo_journey(first)
        survey_id = Sandbox(seed=7).survey_ids["nps"]
        apps = [first]
        if servers == 2:
            # Same store; the first server's embedded sandbox stands in for Qualtrics (the grant in the store
            # was issued by it). The survey link and Qualtrics' pushes stay with the first server.
            store = {"PULSE_DB": first.env["PULSE_DB"], "PULSE_DATABASE_URL": first.database_url or ""}
            sandbox = running_sandbox(Settings.load(store, secrets_path=None))
            assert sandbox is not None, "the first app server records its embedded sandbox"
            (data / "b").mkdir()
            second = AppServer(data / "b", {**passed_through(), "PULSE_DB": first.env["PULSE_DB"],
                                            "QUALTRICS_BASE_URL": sandbox.base_url,
                                            "QUALTRICS_CLIENT_ID": sandbox.client_id,
                                            "QUALTRICS_CLIENT_SECRET": sandbox.client_secret})
            stack.callback(second.stop)
            second.start()
            apps.append(second)
            proxy = Nginx(data / "nginx", [first.port, second.port])
            stack.callback(proxy.stop)
            proxy.start()
            url, mode = proxy.url, "2 app servers behind nginx (sticky on the pulse_browser cookie)"
        else:
            url, mode = first.url, "1 app server"
        yield Target(url, first.url, journey_id, survey_id, [a.process.pid for a in apps],
                     [a.port for a in apps], mode)


# -- measuring -----------------------------------------------------------------------------------------------


def rss_mb(pids: list[int]) -> float:
    return sum(psutil.Process(pid).memory_info().rss for pid in pids) / 2**20


def cpu_s(pids: list[int]) -> float:
    return sum(sum(psutil.Process(pid).cpu_times()[:2]) for pid in pids)


def sessions_per_server(target: Target) -> list[int]:
    """Open websockets (established TCP connections) on each app server's port."""
    counts = []
    for pid, port in zip(target.pids, target.ports):
        connections = psutil.Process(pid).net_connections(kind="tcp")
        counts.append(sum(1 for c in connections if c.laddr and c.laddr.port == port
                          and c.status == psutil.CONN_ESTABLISHED))
    return counts


@dataclasses.dataclass
class Meter:
    """The servers' (and this client's) resources over one measurement, from its start to ``figures()``."""

    target: Target
    rss0: float  # the servers' RSS before the first session
    cpu0: float = 0.0
    own0: float = 0.0
    t0: float = 0.0

    def start(self) -> "Meter":
        self.cpu0, self.own0, self.t0 = cpu_s(self.target.pids), time.process_time(), time.monotonic()
        return self

    def figures(self, sessions: int, runs: int = 0) -> dict:
        """``runs``: the script runs the servers did meanwhile, for their CPU seconds per run (the figure a
        loaded machine disturbs least: what one process can afford is about one core / that)."""
        elapsed = max(1e-6, time.monotonic() - self.t0)
        rss, cpu = rss_mb(self.target.pids), cpu_s(self.target.pids) - self.cpu0
        return {"rss_mb": rss, "mb_per_session": (rss - self.rss0) / sessions,
                "server_cpu_per_s": cpu / elapsed, "cpu_per_run_s": cpu / runs if runs else math.nan,
                "client_cpu_per_s": (time.process_time() - self.own0) / elapsed,
                "per_server": sessions_per_server(self.target), "load_average": os.getloadavg()[0]}


def not_opened(scenario: str, count: int, opened: int, error: Exception, target: Target, rss0: float) -> dict:
    """The row of a size whose sessions could not all be opened (or warmed) within their deadlines."""
    nan = math.nan
    figures = {"rerun_p50_s": nan, "rerun_p95_s": nan, "run_p50_s": nan, "clicks": 0} if scenario == "pages" else \
        {"gap_p50_s": nan, "gap_p95_s": nan, "refresh_run_p50_s": nan, "refreshes_finished": 0,
         "refreshes_stopped": 0, "votes": 0, "vote_p50_s": nan, "vote_p95_s": nan, "votes_missed": 0}
    return {"scenario": scenario, "sessions": count, "held": False,
            "failures": [f"only {opened} of {count} sessions opened: {error}"], **figures,
            **Meter(target, rss0).start().figures(max(1, opened)), "server_cpu_per_s": nan, "client_cpu_per_s": nan}


async def open_sessions(sessions: list[Session], target: Target, path: str, query: str, count: int,
                        timeout: float, **kwargs) -> None:
    """Add sessions until there are ``count``, four opening at a time."""
    gate = asyncio.Semaphore(4)

    async def one() -> Session:
        async with gate:
            session = Session(target.url, path, query, **kwargs)
            await session.open(timeout=timeout)
            return session

    sessions.extend(await asyncio.gather(*(one() for _ in range(count - len(sessions)))))


async def pages(target: Target, counts: list[int], window: float, rerun_timeout: float,
                all_sizes: bool) -> list[dict]:
    sessions: list[Session] = []
    rows = []
    rss0 = rss_mb(target.pids)
    try:
        for count in counts:
            try:
                await open_sessions(sessions, target, "/", f"journey={target.journey_id}", count, timeout=180)
                await asyncio.gather(*(s.rerun(timeout=rerun_timeout) for s in sessions))  # warm: one click each
            except SessionError as exc:
                rows.append(not_opened("pages", count, len(sessions), exc, target, rss0))
                go_on(rows[-1], all_sizes=False)
                break
            latencies: list[float] = []
            durations: list[float] = []
            failures: list[str] = []
            meter = Meter(target, rss0).start()
            end = meter.t0 + window

            async def clicking(session: Session) -> None:
                # A random phase, so that clicks do not come in step; within the window, so each session clicks.
                next_click = time.monotonic() + random.uniform(0, min(CLICK_PERIOD, window))
                while next_click < end:
                    await asyncio.sleep(max(0.0, next_click - time.monotonic()))
                    try:
                        run = await session.rerun(timeout=rerun_timeout)
                        latencies.append(run.latency)
                        durations.append(run.finished - run.started)  # the run alone, without its wait
                    except SessionError as exc:
                        latencies.append(float("inf"))
                        failures.append(str(exc))
                    next_click = max(next_click + CLICK_PERIOD, time.monotonic())

            await asyncio.gather(*(clicking(s) for s in sessions))
            p95 = percentile(latencies, 0.95)
            rows.append({"scenario": "pages", "sessions": count, "clicks": len(latencies),
                         "rerun_p50_s": percentile(latencies, 0.5), "rerun_p95_s": p95,
                         "run_p50_s": percentile(durations, 0.5),
                         "held": p95 <= HELD_RERUN_P95 and not failures, "failures": failures[:3],
                         **meter.figures(count, runs=len(durations))})
            if not go_on(rows[-1], all_sizes):
                break
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return rows


@dataclasses.dataclass
class Screen:
    """What one wall screen received: when each board update came, and when the answered count moved."""

    updates: list[float] = dataclasses.field(default_factory=list)
    answered: list[tuple[float, int]] = dataclasses.field(default_factory=list)

    def on_element(self, _: Session, __: tuple[int, ...], shown: Shown) -> None:
        if shown.kind != "bidi_component" or not shown.element.bidi_component.component_name.endswith(
                WALL_COMPONENT):
            return
        self.updates.append(shown.at)
        count = json.loads(shown.text)["answered"]
        if not self.answered or self.answered[-1][1] != count:
            self.answered.append((shown.at, count))


async def post_answer(target: Target) -> None:
    """An answer from a phone: the survey form posted to the survey link on the app's URL."""
    answer = await asyncio.to_thread(requests.post, f"{target.form_url}/jfe/form/{target.survey_id}",
                                     data={"QID1": "8"}, allow_redirects=False, timeout=30)
    if answer.status_code != 303:
        raise RuntimeError(f"the survey link answered {answer.status_code}: {answer.text[:200]}")


async def wall(target: Target, counts: list[int], window: float, votes: int, vote_timeout: float,
               all_sizes: bool) -> list[dict]:
    sessions: list[Session] = []
    screens: dict[int, Screen] = {}
    rows = []
    rss0 = rss_mb(target.pids)
    try:
        for count in counts:
            try:
                while len(sessions) < count:
                    screen = Screen()
                    session = Session(target.url, "/live", f"journey={target.journey_id}&wall=1",
                                      on_element=screen.on_element)
                    sessions.append(session)
                    await session.open(timeout=180)
                    session.follow_auto_reruns()
                    screens[id(session)] = screen
            except SessionError as exc:
                rows.append(not_opened("wall", count, len(screens), exc, target, rss0))
                go_on(rows[-1], all_sizes=False)
                break
            await asyncio.sleep(3)  # the newest screens settle into their clock
            meter = Meter(target, rss0).start()
            await asyncio.sleep(window)
            # Each screen's gaps run from the window's start to its first update and from its last update to
            # the window's end too, so that a screen that stops refreshing counts as the gap it shows.
            window_end = meter.t0 + window
            gaps = []
            for screen in screens.values():
                points = [meter.t0, *(t for t in screen.updates if meter.t0 <= t <= window_end), window_end]
                gaps.extend(b - a for a, b in zip(points, points[1:]))
            # How long the server took over one refresh, from its new_session to its script_finished.
            refreshes = [r for s in sessions for r in s.runs if r.is_fragment and r.started >= meter.t0]
            runs = [r.finished - r.started for r in refreshes if r.status == "fragment finished"]
            # Refreshes whose run ended with FINISHED_EARLY_FOR_RERUN instead of finishing (a newer rerun request
            # was pending); counted because each is server work that may not have reached the screen.
            stopped = sum(1 for r in refreshes if r.status == "stopped for a rerun")
            latencies: list[float] = []
            posted_votes = 0
            for _ in range(votes):
                posted_votes += 1
                before = {key: screen.answered[-1][1] for key, screen in screens.items()}
                posted = time.monotonic()
                await post_answer(target)
                deadline = posted + vote_timeout
                pending = set(screens)
                while pending and time.monotonic() < deadline:
                    for key in list(pending):
                        moved = [t for t, n in screens[key].answered if t >= posted and n > before[key]]
                        if moved:
                            latencies.append(moved[0] - posted)
                            pending.discard(key)
                    await asyncio.sleep(0.02)
                latencies.extend([float("inf")] * len(pending))
                if pending == set(screens):
                    break  # no screen showed it in time: the next votes would only wait out their deadlines too
            closed = [s.closed_reason for s in sessions if s.closed_reason]
            errors = [e for s in sessions for e in s.errors]
            p95 = percentile(gaps, 0.95)
            rows.append({"scenario": "wall", "sessions": count,
                         "gap_p50_s": percentile(gaps, 0.5), "gap_p95_s": p95,
                         "refresh_run_p50_s": percentile(runs, 0.5), "refreshes_finished": len(runs),
                         "refreshes_stopped": stopped,
                         "held": p95 <= HELD_GAP_P95 and not closed and not errors,
                         "votes": posted_votes, "vote_p50_s": percentile(latencies, 0.5),
                         "vote_p95_s": percentile(latencies, 0.95),
                         "votes_missed": sum(1 for v in latencies if v == float("inf")),
                         "failures": (closed + errors)[:3], **meter.figures(count, runs=len(refreshes))})
            if not go_on(rows[-1], all_sizes):
                break
    finally:
        await asyncio.gather(*(s.close() for s in sessions), return_exceptions=True)
    return rows


# -- reporting -----------------------------------------------------------------------------------------------

HEADER = ("| scenario | servers | sessions | per server | p50 s | p95 s | held | one run p50 s (server CPU s) | "
          "vote -> screen p50 / p95 s | server / client CPU s/s | RSS MB | MB / session | load avg |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


def table_row(row: dict, servers: int) -> str:
    latency = ("rerun", row.get("rerun_p50_s"), row.get("rerun_p95_s")) if row["scenario"] == "pages" else \
        ("refresh gap", row.get("gap_p50_s"), row.get("gap_p95_s"))
    vote = (f"{row['vote_p50_s']:.2f} / {row['vote_p95_s']:.2f}" + (f" ({row['votes_missed']} missed)"
            if row["votes_missed"] else "")) if row["scenario"] == "wall" else ""
    stopped = f" ({row['refreshes_stopped']} of {row['refreshes_stopped'] + row['refreshes_finished']} refreshes " \
        "ended early for a rerun)" if row.get("refreshes_stopped") else ""
    return (f"| {row['scenario']} ({latency[0]}) | {servers} | {row['sessions']} | "
            f"{'/'.join(map(str, row['per_server']))} | {latency[1]:.2f} | {latency[2]:.2f} | "
            f"{'yes' if row['held'] else 'NO'}{stopped} | {row.get('run_p50_s', row.get('refresh_run_p50_s', math.nan)):.2f} "
            f"({row.get('cpu_per_run_s', math.nan):.2f}) | "
            f"{vote} | {row['server_cpu_per_s']:.2f} / {row['client_cpu_per_s']:.2f} | "
            f"{row['rss_mb']:.0f} | "
            f"{row['mb_per_session']:.1f} | {row['load_average']:.1f} |")


def go_on(row: dict, all_sizes: bool) -> bool:
    """Report a size's row; whether to go on to the next size (not after one that is not held)."""
    report(row)
    return row["held"] or all_sizes


def report(row: dict) -> None:
    kind = "rerun" if row["scenario"] == "pages" else "refresh gap"
    p50, p95 = (row["rerun_p50_s"], row["rerun_p95_s"]) if row["scenario"] == "pages" else (row["gap_p50_s"],
                                                                                            row["gap_p95_s"])
    vote = f" | vote -> screen p50 {row['vote_p50_s']:.2f} s p95 {row['vote_p95_s']:.2f} s" \
        if row["scenario"] == "wall" else ""
    print(f"{row['scenario']:>5} {row['sessions']:>3} sessions: {kind} p50 {p50:.2f} s p95 {p95:.2f} s{vote} | "
          f"server CPU {row['server_cpu_per_s']:.2f} s/s, {row.get('cpu_per_run_s', math.nan):.2f} s a run | "
          f"{row['mb_per_session']:.1f} MB/session | "
          f"{'held' if row['held'] else 'NOT held'}" + (f" ({row['failures'][0]})" if row["failures"] else "")
          + (f"; {row['refreshes_stopped']} refreshes ended early for a rerun, {row['refreshes_finished']} finished"
             if row["scenario"] == "wall" else ""),
          file=sys.stderr, flush=True)


def summary(rows: list[dict]) -> dict:
    out = {}
    for scenario in ("pages", "wall"):
        mine = [r for r in rows if r["scenario"] == scenario]
        if mine:
            out[f"{scenario}_sessions_held"] = max((r["sessions"] for r in mine if r["held"]), default=0)
            out[f"{scenario}_mb_per_session"] = mine[-1]["mb_per_session"]
    return out


def write_results(result: dict, command: str, path: Path = RESULTS) -> None:
    """Put this run's block (one per scenario set and server count) into RESULTS.md's load section; the
    other blocks and everything before the section stay."""
    text = path.read_text() if path.exists() else ""
    key = f"### {'+'.join(result['scenarios'])}, {result['servers']} server{'s' if result['servers'] > 1 else ''}"
    block = "\n".join([
        key, "",
        f"- command: `{command}`",
        f"- started: {result['started']} UTC, took {result['took_s']:.0f} s; {result['mode']}; server CPU with "
        f"no session {result['idle_server_cpu_per_s']:.2f} s/s",
        f"- machine: {result['cpus']} cores, {result['platform']}; load average (1, 5, 15 min) at start "
        f"{', '.join(f'{x:.2f}' for x in result['load_start'])}, at end {', '.join(f'{x:.2f}' for x in result['load_end'])}",
        "- held: " + "; ".join(f"{k.replace('_', ' ')} = {v:.1f}" if isinstance(v, float) else
                               f"{k.replace('_', ' ')} = {v}" for k, v in result["summary"].items()),
        "", HEADER, *(table_row(r, result["servers"]) for r in result["rows"]), ""])
    head, found, section = text.partition(LOAD_SECTION)
    section, later, tail = section.partition("\n## ")  # a section after this one stays after it
    blocks = re.split(r"(?m)^(?=### )", section)
    intro, blocks = (blocks[0], blocks[1:]) if found else (LOAD_INTRO, [])
    blocks = [b.rstrip("\n") + "\n\n" for b in blocks if not b.startswith(key + "\n")] + [block + "\n"]
    path.write_text(head.rstrip("\n") + "\n\n" + LOAD_SECTION + intro + "".join(sorted(blocks)).rstrip("\n")
                    + "\n" + ("\n## " + tail if later else ""))


LOAD_INTRO = """

Written by `bench/load.py --results` (a block per scenario and server count; `bench/run.py` keeps this section).
Sessions are websocket-level Streamlit clients (bench/streamlit_client.py) in one process beside the servers,
on the same 2 cores; a rerun's latency runs from the request to its `script_finished`, a wall's refresh gap
between two board updates a screen receives, vote -> screen from the POST of an answer to the first board
update that shows the new count (per screen). "One run" is a run alone (its `new_session` to its
`script_finished`, no wait for the session's turn). Held: rerun p95 <= 1 s (pages), refresh gap p95 <= 2 s (wall).
Other helpers' test runs share the machine: the load average is beside every figure.

"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", default="pages,wall", help="pages, wall or both (comma-separated)")
    parser.add_argument("--servers", type=int, choices=(1, 2), default=1)
    parser.add_argument("--sessions", default="1,10,20,30,40", help="session counts, ascending")
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured per session count")
    parser.add_argument("--votes", type=int, default=10, help="answers posted per wall size")
    parser.add_argument("--rerun-timeout", type=float, default=30.0)
    parser.add_argument("--vote-timeout", type=float, default=30.0)
    parser.add_argument("--all-sizes", action="store_true", help="go on after a size that is not held")
    parser.add_argument("--url", help="a running app instead of starting one (needs --journey)")
    parser.add_argument("--journey", type=int, help="journey id on --url")
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument("--results", action="store_true", help="write the figures into bench/RESULTS.md")
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenario.split(",") if s.strip()]
    if not set(scenarios) <= {"pages", "wall"}:
        parser.error("--scenario takes pages and/or wall")
    counts = sorted({int(c) for c in args.sessions.split(",") if c.strip()})
    if args.url and args.journey is None:
        parser.error("--url needs --journey (the id of a journey on that app)")
    started_at, t0, load_start = dt.datetime.now(dt.timezone.utc), time.monotonic(), os.getloadavg()
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="pulse-load-") as tmp:
        with (contextlib.nullcontext(running(args)) if args.url else started(args.servers, Path(tmp))) as target:
            idle = Meter(target, 0.0).start()
            time.sleep(5)
            idle_cpu = idle.figures(1)["server_cpu_per_s"]
            print(f"{target.mode}: sessions on {target.url}, answers to {target.form_url}; load average "
                  f"{load_start[0]:.1f} on {os.cpu_count()} cores; server CPU with no session {idle_cpu:.2f} s/s",
                  file=sys.stderr, flush=True)
            for scenario in scenarios:
                if scenario == "pages":
                    rows += asyncio.run(pages(target, counts, args.window, args.rerun_timeout, args.all_sizes))
                else:
                    rows += asyncio.run(wall(target, counts, args.window, args.votes, args.vote_timeout,
                                             args.all_sizes))
    result = {"scenarios": scenarios, "servers": args.servers, "mode": target.mode, "rows": rows,
              "idle_server_cpu_per_s": idle_cpu,
              "summary": summary(rows), "started": started_at.strftime("%Y-%m-%d %H:%M"),
              "took_s": time.monotonic() - t0, "cpus": os.cpu_count(), "platform": platform.platform(),
              "load_start": load_start, "load_end": os.getloadavg()}
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print(HEADER)
        for row in rows:
            print(table_row(row, args.servers))
    if args.results:
        write_results(result, "python bench/load.py " + " ".join(argv if argv is not None else sys.argv[1:]))
    return 0


def running(args: argparse.Namespace) -> Target:
    """An app someone else started (``--url``): its processes are not known, so CPU and RSS read as zero."""
    return Target(args.url.rstrip("/"), args.url.rstrip("/"), args.journey, Sandbox(seed=7).survey_ids["nps"],
                  [], [], f"the app at {args.url}")


if __name__ == "__main__":
    raise SystemExit(main())
