"""Issue 12 finding 2, in the browser: every response denies framing, pages still load, and with
PULSE_OPEN_ACCESS=1 every page says that anyone can manage the instance."""

from __future__ import annotations

import pytest
import requests

from scripts.appserver import AppServer

BANNER = "anyone who can reach this address can manage Journey Pulse"


@pytest.mark.e2e
@pytest.mark.slow
def test_every_response_denies_framing_and_pages_still_load_in_chromium(tmp_path, browser):
    server = AppServer(tmp_path, env={"PULSE_OPEN_ACCESS": "1"}).start()
    try:
        for path in ("/", "/integrations", "/api/health", "/_stcore/health", "/static/index.html"):
            answer = requests.get(server.url + path, timeout=10)
            assert answer.headers.get("X-Frame-Options") == "DENY", path
            assert answer.headers.get("Content-Security-Policy") == "frame-ancestors 'none'", path
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        page = context.new_page()
        page.goto(server.url + "/integrations")
        page.get_by_text("Data integrations").wait_for(timeout=60_000)
        page.get_by_text(BANNER).wait_for(timeout=10_000)
        # A page of another origin that frames the app gets nothing: Chromium blocks the frame.
        page.set_content(f'<iframe id="f" src="{server.url}/" style="width:400px;height:300px"></iframe>')
        page.wait_for_timeout(3_000)
        assert page.frame_locator("#f").locator("[data-testid='stApp']").count() == 0
        context.close()
    finally:
        server.stop()
