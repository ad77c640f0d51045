"""bench/streamlit_client.py speaks Streamlit's real websocket protocol to the real app (`streamlit run app.py`
through scripts/appserver.py): a session opens and runs a page in full, a rerun is a new run answered by its
own ``script_finished``, the wall's ``run_every`` fragment refreshes on the client's clock with the figures
the store holds, and an unknown page is an error, not a silent success."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.streamlit_client import Session, SessionError, run_sessions
from scripts.appserver import AppServer
from workspace import journeys
from workspace.config import Settings

pytestmark = pytest.mark.slow
JOURNEY = "Onboarding journey"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    server = AppServer(tmp_path_factory.mktemp("client-app")).start()
    try:
        settings = Settings.load({"PULSE_DB": server.env["PULSE_DB"]}, secrets_path=None)
        journey = journeys.create_journey(settings, JOURNEY, "From sign-up to first value",
                                          stages=[("Join", ["Sign up", "First use"])])
        yield server, journey.id
    finally:
        server.stop()


def test_a_session_runs_the_journey_page_in_full_and_a_rerun_is_a_new_finished_run(app):
    server, journey_id = app

    async def scenario():
        async with Session(server.url, "/", f"journey={journey_id}") as session:
            first = await session.open(timeout=60)
            shown = session.texts()
            again = await session.rerun(timeout=60)
            return session, first, shown, again

    session, first, shown, again = run_sessions(scenario())
    assert session.session_id and session.page_script_hash
    assert first.status == "finished" and not first.is_fragment
    assert any(JOURNEY in text for text in shown), shown[:10]
    assert any("Sign up" in text for text in shown)  # the lane of the journey's steps
    assert again.run_id != first.run_id and again.status == "finished"
    assert session.errors == []


def test_the_wall_fragment_refreshes_on_the_clients_clock_with_the_stored_figures(app):
    server, journey_id = app

    async def scenario():
        async with Session(server.url, "/live", f"journey={journey_id}&wall=1") as wall:
            await wall.open(timeout=60)
            assert wall.auto_reruns, "the wall's fragment asks for run_every refreshes"
            first = wall.component_data("live_wall")
            wall.follow_auto_reruns()
            await wall.wait_for(lambda s: sum(r.status == "fragment finished" for r in s.runs) >= 2, timeout=30,
                                what="two fragment refreshes")
            return wall, first, wall.component_data("live_wall")

    wall, first, later = run_sessions(scenario())
    fragment_id, interval = next(iter(wall.auto_reruns.items()))
    assert 0 < interval <= 2
    refreshes = [run for run in wall.runs if run.is_fragment]
    assert all(run.fragment_ids == (fragment_id,) for run in refreshes)
    assert first["title"] == later["title"] == JOURNEY and first["answered"] == 0
    assert later["beat"] > first["beat"], "each refresh sends the board again"
    assert wall.errors == []


def test_an_unknown_page_is_reported_as_an_error(app):
    server, _ = app

    async def scenario():
        async with Session(server.url, "/no-such-page") as session:
            await session.open(timeout=60)

    with pytest.raises(SessionError, match="page not found"):
        run_sessions(scenario())


def test_a_closed_server_ends_the_wait_with_the_reason(tmp_path: Path):
    server = AppServer(tmp_path).start()

    async def scenario():
        async with Session(server.url, "/") as session:
            await session.open(timeout=60)
            server.stop()
            await session.rerun(timeout=20)

    try:
        with pytest.raises(SessionError, match="closed|timed out"):
            run_sessions(scenario())
    finally:
        server.stop()


def test_sessions_run_where_a_browser_test_keeps_an_event_loop_running():
    """Playwright's sync API keeps a loop running in the main thread: asyncio.run would refuse there."""
    async def answer() -> int:
        return 42

    async def inside_a_running_loop() -> int:
        return run_sessions(answer())

    with ThreadPoolExecutor(max_workers=1) as pool:  # a thread of its own: this one may hold Playwright's loop
        assert pool.submit(asyncio.run, inside_a_running_loop()).result(timeout=30) == 42
