"""Screenshots of every page, light and dark, for README and docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--live]   # --live: only Live and its wall view

Builds a demo workspace the way a user would: the app on its embedded sandbox, Qualtrics
connected through the real consent page, metrics synced from the sandbox, a journey whose steps
carry the touchpoint ratings of the sandbox's matrix survey.
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qualtrics.sandbox import Sandbox  # noqa: E402
from scripts.appserver import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer  # noqa: E402
from workspace import journeys, metrics, sync  # noqa: E402
from workspace.catalog import refresh_questions, refresh_surveys  # noqa: E402
from workspace.config import Settings  # noqa: E402
from workspace.connection import open_client  # noqa: E402
from workspace.datahub import endpoint, samples  # noqa: E402
from workspace.integration import running_sandbox  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
# 3 stages, 6 steps: the journey that the lane's browser test (tests/e2e/test_journey_lane.py) also uses.
STAGES = [("Discover", ["Discover"]), ("Join", ["Sign up", "First use"]), ("Stay", ["Billing", "Support", "Renew"])]
TARGETS = {"nps": 40.0, "ces": 80.0}


def pages(journey_id: int, metric_id: int) -> dict[str, str]:
    return {"journeys": f"/?journey={journey_id}", "metrics-library": "/metrics", "metric": f"/metric?id={metric_id}",
            "new-metric": "/new-metric", "live": f"/live?journey={journey_id}", "integrations": "/integrations",
            "data-hub": "/data-hub"}


def connect(page: Page, url: str) -> None:
    """Enable and authorize through the sandbox's consent page (nothing to do when already Active)."""
    page.goto(f"{url}/integrations")
    enable, active = page.get_by_role("button", name="Enable"), page.get_by_text("Active", exact=True)
    enable.or_(active).first.wait_for()
    if not enable.count():
        return
    enable.click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/oauth2/auth\?"))
    page.get_by_role("button", name="Approve").click()
    active.wait_for()


def build_demo(url: str, db_path: str, database_url: str | None = None) -> tuple[int, list[int]]:
    """A journey of 3 stages, 6 steps and 8 metrics with the titles the app gives by default (the five
    touchpoint rows of the sandbox's matrix survey, its NPS, CSAT and CES questions), synced from the app's
    own sandbox through the stored grant. The app's store: its SQLite file ``db_path``, or its PostgreSQL
    database ``database_url``. Returns the journey id and the metric ids."""
    store = {"PULSE_DB": db_path, **({"PULSE_DATABASE_URL": database_url} if database_url else {})}
    # Where the app's sandbox serves: recorded in the app's store (health says nothing about it).
    running = running_sandbox(Settings.load(store, secrets_path=None))
    assert running is not None, "the app started no embedded sandbox"
    base = running.base_url
    settings = Settings.load({**store, "QUALTRICS_BASE_URL": base,
                              "QUALTRICS_CLIENT_ID": Sandbox.client_id,
                              "QUALTRICS_CLIENT_SECRET": Sandbox.client_secret}, secrets_path=None)
    ids = Sandbox(seed=7).survey_ids
    journey = journeys.create_journey(settings, "Customer journey", "From first visit to renewal", stages=STAGES)
    steps = {step.name: step for step in journey.steps}
    with open_client(settings) as client:
        refresh_surveys(settings, client)  # as the wizard does: pages name surveys from this list
        refresh_questions(settings, client, ids["matrix"])
        for survey in ("nps", "csat", "ces"):
            refresh_questions(settings, client, ids[survey])
    placed = [("matrix", f"QID1_{row}", "csat", step) for row, step in
              enumerate(["Discover", "Sign up", "First use", "Billing", "Support"], start=1)]
    placed += [("ces", "QID1", "ces", "Sign up"), ("csat", "QID1", "csat", "Support"), ("nps", "QID1", "nps", "Renew")]
    metric_ids = []
    for survey, question_id, kind, step_name in placed:
        metric = metrics.create_metric(settings, ids[survey], question_id, kind, target=TARGETS.get(kind))
        journeys.place_metric(settings, metric.id, steps[step_name].id)
        metric_ids.append(metric.id)
    for result in sync.sync_all(settings):
        print(f"synced {result.survey_id}: {result.status} {result.responses} responses", file=sys.stderr)
    return journey.id, metric_ids


def push_samples(url: str, db_path: str) -> None:
    """The Data Hub's sample button: the synced comments pushed through the app's own endpoint."""
    settings = Settings.load({"PULSE_DB": db_path}, secrets_path=None)
    pushed = samples.send_samples(settings, endpoint.create_key(settings, "screenshots"), None,
                                  url=f"{url}{endpoint.ENDPOINT_PATH}")
    print(f"data hub: {pushed.stored} comments pushed", file=sys.stderr)
    time.sleep(5)  # the app reads them off the request path


ROOM_ANSWERS = [("10", "Setup took five minutes, great guide."), ("9", ""), ("6", "Billing page is confusing."),
                ("8", "Support answered within the hour.")]


def live_shots(browser, url: str, journey_id: int) -> None:
    """The Live page and its wall view at 1920x1080 in both themes, after a few answers from the room
    (posted to the survey link through the app's URL, as phones do)."""
    nps = Sandbox(seed=7).survey_ids["nps"]
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, color_scheme=scheme)
        shot = context.new_page()
        shot.set_default_timeout(60_000)
        shot.goto(f"{url}/live?journey={journey_id}&wall=1")
        shot.locator(".jp-wall .card").first.wait_for()
        if scheme == "light":
            for score, comment in ROOM_ANSWERS:
                requests.post(f"{url}/jfe/form/{nps}", data={"QID1": score, "QID2_TEXT": comment}, timeout=30)
        time.sleep(10)  # pushed, stored, counted up
        shot.screenshot(path=str(OUT / f"live-wall-{scheme}.png"))
        shot.goto(f"{url}/live?journey={journey_id}")
        shot.wait_for_selector("[data-testid='stAppViewContainer']")
        time.sleep(4)
        shot.screenshot(path=str(OUT / f"live-{scheme}.png"), full_page=True)
        print(f"live-wall-{scheme}.png, live-{scheme}.png", file=sys.stderr)
        context.close()


def main() -> None:
    only_live = "--live" in sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        # A throwaway demo in a throwaway SQLite file, whatever PULSE_DATABASE_URL this shell has.
        server = AppServer(Path(data), {"PULSE_DATABASE_URL": ""}).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(30_000)
                connect(page, server.url)
                journey_id, metric_ids = build_demo(server.url, server.env["PULSE_DB"])
                push_samples(server.url, server.env["PULSE_DB"])
                live_shots(browser, server.url, journey_id)
                for scheme in () if only_live else ("light", "dark"):
                    context = browser.new_context(viewport={"width": 1440, "height": 1000}, color_scheme=scheme)
                    shot = context.new_page()
                    for name, path in pages(journey_id, metric_ids[-1]).items():
                        if name == "live":
                            continue  # live_shots took it at 1920x1080, after answers from the room
                        shot.goto(server.url + path, wait_until="domcontentloaded", timeout=120_000)
                        shot.wait_for_selector("[data-testid='stAppViewContainer']", timeout=120_000)
                        # The page has run when Streamlit's "Running…" widget is gone; then charts draw.
                        shot.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)
                        # Charts and some widgets load their code lazily and show a skeleton until then.
                        shot.wait_for_function("!document.querySelector(\"[data-testid='stSkeleton']\")",
                                               timeout=120_000)
                        if name != "journeys":
                            # A full-page capture resizes the viewport mid-shot and charts redraw as blank
                            # placeholders: make the viewport as tall as the page first, let it settle.
                            height = shot.evaluate("document.querySelector(\"[data-testid='stMain']\").scrollHeight")
                            shot.set_viewport_size({"width": 1440, "height": max(1000, min(int(height), 4000))})
                        time.sleep(4)
                        shot.screenshot(path=str(OUT / f"{name}-{scheme}.png"))
                        shot.set_viewport_size({"width": 1440, "height": 1000})
                        print(f"{name}-{scheme}.png", file=sys.stderr)
                    context.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
