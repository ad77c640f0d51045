"""The seed flow of design.md §1 in a real browser, against the app's embedded Qualtrics sandbox.

Integrations → Enable → Authorize → Approve → Active → Metrics Library → + Metric → survey →
question → mapping → Sync data → the score equals the sandbox's known value → attach it to a
journey step → the journey view shows it.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from qualtrics.sandbox import Sandbox
from scoring import format_value
from workspace.bootstrap import SANDBOX_SEED

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def known_nps() -> str:
    """The demo NPS survey's score as the app must display it, computed by the sandbox's ground truth."""
    return format_value("nps", Sandbox(seed=SANDBOX_SEED).known_scores()["nps"])


def choose(page: Page, label: str, text: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def test_seed_flow_from_connecting_qualtrics_to_a_score_on_a_journey(app_server: dict, page: Page) -> None:
    url = app_server["url"]

    # Settings › Integrations: Enable → Authorize → Approve → Active
    page.goto(f"{url}/integrations")
    expect(page.get_by_text("Data integrations")).to_be_visible()
    expect(page.get_by_text("Inactive", exact=True)).to_be_visible()
    page.get_by_role("button", name="Enable").click()
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(r"/oauth2/auth\?"))
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(re.compile(r"/integrations"))
    expect(page.get_by_text("Active", exact=True)).to_be_visible()
    assert "code=" not in page.url, "the spent authorization code must not stay in the address bar"
    expect(page.get_by_role("button", name="Disconnect")).to_be_visible()

    # Metrics Library → + Metric → Source, Survey, Question, Metric type, mapping → Sync data
    page.get_by_role("link", name="Metrics Library").click()
    page.get_by_role("button", name="+ Metric").click()
    expect(page.get_by_text("Source")).to_be_visible()
    choose(page, "Survey", "Customer NPS")
    choose(page, "Question", "QID1")
    expect(page.get_by_text("Metric type")).to_be_visible()
    expect(page.get_by_text("Map every answer to a sentiment")).to_be_visible()
    page.get_by_role("button", name="Sync data").click()

    # The metric page shows the sandbox's known score with its respondent count.
    page.wait_for_url(re.compile(r"/metric\?id=\d+"), timeout=60_000)
    score = known_nps()
    expect(page.get_by_text(score, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(r"n = [\d,]+")).first).to_be_visible()

    # A journey with a stage and a step, then the metric placed on the step.
    page.get_by_role("link", name="Journeys").click()
    page.get_by_role("button", name="New journey").click()
    page.get_by_label("Name").fill("Onboarding")
    page.get_by_label("Stages (optional, comma separated)").fill("Discover")
    page.get_by_role("button", name="Create journey").click()
    expect(page.get_by_text("This journey has no stages yet")).not_to_be_visible()
    page.get_by_text("Edit journey").click()
    page.get_by_placeholder("Add a step to Discover").fill("Landing page")
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_text("Landing page", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Place metric").click()

    # The journey view's metrics lane shows the score on the step.
    lane_card = page.locator("[class*='st-key-card_lane_']").first
    expect(lane_card).to_be_visible()
    expect(lane_card.get_by_text(score, exact=True)).to_be_visible()
    assert "journey=" in page.url, "the journey view's URL must be shareable"
