"""The seed flow of design.md §1 in a real browser, against the app's embedded Qualtrics sandbox.

Integrations → Enable → Authorize → Approve → Active → Metrics Library → + Metric → survey →
question → mapping → Sync data → the score equals the sandbox's known value → attach it to a
journey step → the journey view shows it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from qualtrics.sandbox import Sandbox
from scoring import format_value
from tests.e2e.conftest import running_app
from tests.e2e.flows import add_metric_and_sync, connect_qualtrics
from workspace.bootstrap import SANDBOX_SEED

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def known_nps() -> str:
    """The demo NPS survey's score as the app must display it, computed by the sandbox's ground truth."""
    return format_value("nps", Sandbox(seed=SANDBOX_SEED).known_scores()["nps"])


@pytest.fixture
def fresh_app(tmp_path) -> Iterator[dict]:
    """An app of its own: the flow starts at an Inactive card, which the shared app has left behind."""
    with running_app(tmp_path) as app:
        yield app


def test_seed_flow_from_connecting_qualtrics_to_a_score_on_a_journey(fresh_app: dict, page: Page) -> None:
    connect_qualtrics(page, fresh_app["url"])
    add_metric_and_sync(page, "Customer NPS", "QID1")

    # The metric page shows the sandbox's known score with its respondent count.
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
    # The expander's own header: the "created" message names "Edit journey" too.
    page.locator("[data-testid='stExpander'] summary", has_text="Edit journey").click()
    page.get_by_placeholder("Add a step to Discover").fill("Landing page")
    page.get_by_role("button", name="Add step").click()
    expect(page.get_by_text("Landing page", exact=True).first).to_be_visible()
    page.get_by_role("button", name="Place metric").click()

    # The journey view's metrics lane shows the score on the step.
    lane_card = page.locator("[data-testid='journey-lane'] a.jp-card").first
    expect(lane_card).to_be_visible()
    expect(lane_card.get_by_text(score, exact=True)).to_be_visible()
    assert "journey=" in page.url, "the journey view's URL must be shareable"
