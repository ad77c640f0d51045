"""Steps of the seed flow (design.md §1) that several browser tests walk: connect Qualtrics through the sandbox's
consent page, then make a metric of a survey question and sync it."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect


def choose(page: Page, label: str, text: str) -> None:
    box = page.get_by_role("combobox", name=label)
    box.click()
    box.fill(text)
    page.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def connect_qualtrics(page: Page, url: str) -> None:
    """Settings › Integrations: Enable → Authorize → Approve → Active."""
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


def add_metric_and_sync(page: Page, survey: str, question: str) -> None:
    """Metrics Library → + Metric → Source, Survey, Question, Metric type, mapping → Sync data → metric page."""
    page.get_by_role("link", name="Metrics Library").click()
    page.get_by_role("button", name="+ Metric").click()
    expect(page.get_by_text("Source")).to_be_visible()
    choose(page, "Survey", survey)
    choose(page, "Question", question)
    expect(page.get_by_text("Metric type")).to_be_visible()
    expect(page.get_by_text("Map every answer to a sentiment")).to_be_visible()
    page.get_by_role("button", name="Sync data").click()
    page.wait_for_url(re.compile(r"/metric\?id=\d+"), timeout=60_000)
