"""Screenshots of every page, light and dark, for README and docs/screenshots/.

    .venv/bin/python scripts/screenshots.py

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
from workspace.catalog import refresh_questions  # noqa: E402
from workspace.config import Settings  # noqa: E402
from workspace.connection import open_client  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
STEPS = [("Discover", ["Discover"]), ("Join", ["Sign up", "First use"]), ("Stay", ["Billing", "Support"])]
PAGES = {"journeys": "/?journey=1", "metrics-library": "/metrics", "metric": "/metric?id=1",
         "new-metric": "/new-metric", "live": "/live?journey=1", "integrations": "/integrations",
         "data-hub": "/data-hub"}


def connect(page: Page, url: str) -> None:
    page.goto(f"{url}/integrations")
    page.get_by_role("button", name="Enable").click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/oauth2/auth\?"))
    page.get_by_role("button", name="Approve").click()
    page.get_by_text("Active", exact=True).wait_for()


def build_demo(server: AppServer) -> None:
    """Metrics on every step of a journey, synced from the app's own sandbox through the stored grant."""
    base = requests.get(f"{server.url}/api/health", timeout=5).json()["qualtrics"].rsplit(" ", 1)[-1]
    settings = Settings.load({"PULSE_DB": server.env["PULSE_DB"], "QUALTRICS_BASE_URL": base,
                              "QUALTRICS_CLIENT_ID": Sandbox.client_id,
                              "QUALTRICS_CLIENT_SECRET": Sandbox.client_secret}, secrets_path=None)
    demo = Sandbox(seed=7)
    ids = demo.survey_ids
    journey = journeys.create_journey(settings, "Customer journey", "From first visit to support",
                                      stages=STEPS)
    steps = {step.name: step for step in journey.steps}
    with open_client(settings) as client:
        questions = {q.id: q for q in refresh_questions(settings, client, ids["matrix"])}
        for survey in ("nps", "csat", "ces"):
            refresh_questions(settings, client, ids[survey])
    for row, step_name in enumerate(["Discover", "Sign up", "First use", "Billing", "Support"], start=1):
        question = questions[f"QID1_{row}"]
        metric = metrics.create_metric(settings, ids["matrix"], question.id, "csat", title=f"{step_name} rating")
        journeys.place_metric(settings, metric.id, steps[step_name].id)
    placed = {"nps": ("Product NPS", "First use"), "csat": ("Support CSAT", "Support"),
              "ces": ("Onboarding effort", "Sign up")}
    for kind, (title, step_name) in placed.items():
        metric = metrics.create_metric(settings, ids[kind], "QID1", kind, title=title)
        journeys.place_metric(settings, metric.id, steps[step_name].id)
    for result in sync.sync_all(settings):
        print(f"synced {result.survey_id}: {result.status} {result.responses} responses", file=sys.stderr)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as data:
        server = AppServer(Path(data)).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.set_default_timeout(30_000)
                connect(page, server.url)
                build_demo(server)
                for scheme in ("light", "dark"):
                    context = browser.new_context(viewport={"width": 1440, "height": 1000}, color_scheme=scheme)
                    shot = context.new_page()
                    for name, path in PAGES.items():
                        shot.goto(server.url + path)
                        shot.wait_for_selector("[data-testid='stAppViewContainer']")
                        time.sleep(4)  # charts and fragments finish drawing
                        shot.screenshot(path=str(OUT / f"{name}-{scheme}.png"), full_page=name != "journeys")
                        print(f"{name}-{scheme}.png", file=sys.stderr)
                    context.close()
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
