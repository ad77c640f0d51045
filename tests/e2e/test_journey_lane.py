"""The journey lane in a real browser, at the screens product teams have (1280×720, 1440×900).

The journey is the one scripts/screenshots.py builds: 3 stages, 6 steps, 8 metrics with the titles the app
gives by default, synced from the app's own sandbox. The checks read the DOM: every card's score can be
brought into view and is not covered, scores of one slot share one baseline, cards of one slot one height,
and no text is clipped (scrollWidth/scrollHeight within the box, no ellipsis).
"""

from __future__ import annotations

import pytest

from scripts.screenshots import build_demo, connect

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

MEASURE = """() => {
  const lane = document.querySelector('[data-testid="journey-lane"]');
  const cards = [...lane.querySelectorAll('.jp-card')].map(card => {
    const score = card.querySelector('.jp-score').getBoundingClientRect();
    const box = card.getBoundingClientRect();
    return {metric: card.dataset.metric, row: card.style.gridRowStart, title: card.querySelector('.jp-title').textContent,
            score: card.querySelector('.jp-score').textContent, scoreBottom: score.bottom, height: box.height,
            marks: [...card.querySelectorAll('.jp-mark')].map(m => m.textContent)};
  });
  const clipped = [...lane.querySelectorAll('.jp-stage, .jp-step, .jp-title, .jp-score, .jp-meta, .jp-mark, .jp-empty')]
    .filter(el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1
                  || getComputedStyle(el).textOverflow === 'ellipsis')
    .map(el => el.className + ': ' + el.textContent);
  return {cards, clipped, scrolls: lane.scrollWidth > lane.clientWidth};
}"""

SCORE_SHOWN = """(card) => {
  card.scrollIntoView({block: 'center', inline: 'center'});
  const score = card.querySelector('.jp-score');
  const r = score.getBoundingClientRect();
  const inView = r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  return inView && score.contains(hit);
}"""


@pytest.fixture(scope="module")
def demo(app_server, browser) -> dict:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    connect(page, app_server["url"])
    context.close()
    journey_id, metric_ids = build_demo(app_server["url"], str(app_server["data"] / "pulse.db"),
                                        app_server["database_url"])
    return {"url": f"{app_server['url']}/?journey={journey_id}", "metrics": metric_ids}


@pytest.mark.parametrize("width,height", [(1280, 720), (1440, 900)])
def test_every_card_shows_its_score_on_one_baseline_and_nothing_is_cut(browser, demo, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(90_000)   # the machine may be busy; nothing here is a timing claim
    try:
        page.goto(demo["url"])
        page.wait_for_selector('[data-testid="journey-lane"] .jp-card')
        page.wait_for_selector("[data-testid='stStatusWidget']", state="detached")
        measured = page.evaluate(MEASURE)
        cards = measured["cards"]
        assert sorted(int(c["metric"]) for c in cards) == sorted(demo["metrics"])
        assert all(" · " in c["title"] and len(c["title"]) <= 40 for c in cards), [c["title"] for c in cards]
        assert "CSAT · Discover" in [c["title"] for c in cards] and "NPS · Recommend Journey Pulse" in [
            c["title"] for c in cards]
        assert all(c["score"] != "No score" for c in cards), "the demo is synced"
        assert measured["clipped"] == []
        for row in {c["row"] for c in cards}:
            slot = [c for c in cards if c["row"] == row]
            assert max(c["scoreBottom"] for c in slot) - min(c["scoreBottom"] for c in slot) < 1, slot
            assert max(c["height"] for c in slot) - min(c["height"] for c in slot) < 1, slot
        for card in page.query_selector_all('[data-testid="journey-lane"] .jp-card'):
            assert card.evaluate(SCORE_SHOWN), card.inner_text()
        targets = [m for c in cards for m in c["marks"] if "target" in m]
        assert targets and all(m.split()[0] in ("below", "on", "above") for m in targets)
    finally:
        context.close()
