"""The Live page's two faces through AppTest on the real page script: the wall view (no navigation, no
widgets, the figures as plain data for the wall component) and the facilitator's page after Disconnect."""

from __future__ import annotations

import time

from tests.test_pages import connect, nps_metric, no_exception, open_page, placed_journey, shown_text
from tests.test_pages import settings  # noqa: F401  (fixture: own database, the session sandbox over OAuth)
from ui import routes
from ui.text import count_of
from ui.wall import board_data
from workspace import connection, live, metrics, runs, sync
from workspace.live import feeds


def test_the_wall_view_has_no_navigation_or_widgets_and_hands_text_over_as_data(settings, sandbox):  # noqa: F811
    connect(settings)
    metric = nps_metric(settings, sandbox)
    journey, _ = placed_journey(settings, metric)
    assert sync.sync_survey(settings, metric.survey_id).status == "succeeded"
    metrics.update_metric(settings, metric.id, title="NPS <b>*bold*</b> [x](http://evil.example)")
    try:
        at = open_page(routes.LIVE, query={"journey": str(journey.id), "wall": "1", "hide": "5"})
        no_exception(at)
        assert not at.selectbox and not at.number_input and not at.button, "a wall has no widgets"
        assert not at.title and not at.markdown, "everything on the wall is the component's"
        data = board_data(live.journey_view(settings, journey.id), hide_until=5, refresh_seconds=1)
    finally:
        feeds.stop_all()
    assert data["cards"][0]["title"] == "NPS <b>*bold*</b> [x](http://evil.example)", "handed over as text"
    assert data["hide_until"] == 5 and data["answered"] == 0
    assert data["surveys"][0]["qr"].startswith("data:image/svg+xml")
    assert data["surveys"][0]["link"].endswith(f"/jfe/form/{metric.survey_id}")


def test_after_disconnect_the_facilitator_reads_that_the_figures_are_frozen(settings, sandbox):  # noqa: F811
    connect(settings)
    metric = nps_metric(settings, sandbox)
    journey, _ = placed_journey(settings, metric)
    assert sync.sync_survey(settings, metric.survey_id).status == "succeeded"
    connection.disconnect(settings)
    try:
        deadline = time.monotonic() + 20
        while live.journey_view(settings, journey.id).frozen is None and time.monotonic() < deadline:
            time.sleep(0.1)
        at = open_page(routes.LIVE, query={"journey": str(journey.id)})
        no_exception(at)
        warnings = [w.value for w in at.warning]
        assert any("frozen" in w and "disconnected" in w and "Last answers arrived" in w for w in warnings), warnings
        assert metric.title in shown_text(at) or at.get("html"), "the last figures stay on the page"
    finally:
        feeds.stop_all()
    assert runs.survey_state(settings, metric.survey_id).last_sync is not None


def test_counts_say_one_comment_and_two_comments():
    assert count_of(1, "comment") == "1 comment"
    assert count_of(2, "comment") == "2 comments"
    assert count_of(1204, "comment") == "1,204 comments"
    assert count_of(0, "answer") == "0 answers"


def test_the_shipped_configuration_skips_streamlits_full_collection_after_every_run():
    # Streamlit collects every generation after each script run unless told not to: with pandas, plotly and
    # scipy loaded that walk took ~0.17 s of CPU a run, seven times the rest of a wall screen's refresh, and
    # capped one process at about four wall screens (bench/RESULTS.md). AppTest never runs that collection,
    # so the page tests above cannot see it; a real server reads this file.
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
