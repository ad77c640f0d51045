"""Open-text comments and segment fields, end to end over real HTTP against the sandbox.

Comments: the client lists a survey's open-text questions and embedded-data fields; every sync of a survey
with metrics stores its open-text answers (``QID2_TEXT``) exactly, incrementally, apart from the answers
scores read; Live shows the newest ones as text. Segments: the fields chosen in the + Metric wizard are
stored by the first sync and become the Journeys page's filters.
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
import zipfile

import pandas as pd
import pytest
import sqlite_utils

from qualtrics.client import QualtricsClient
from qualtrics.definitions import parse_definition
from qualtrics.models import OpenTextQuestion
from qualtrics.sandbox import Sandbox
from scoring import format_n
from tests.sandbox_fixtures import api_session, run_export, shared_fixture
from tests.test_pages import connect, lane_of, no_exception, open_page
from tests.test_pages import settings  # noqa: F401 - the pages' runtime fixture, used by the class below
from tests.test_workspace_support import normalised, settings_for
from ui import routes
from workspace import answers, catalog, journey_view, journeys, live, metrics, runs, scores, wizard, store
from workspace.config import Settings
from workspace.connection import open_client
from workspace.store.legacy_sqlite import MIGRATIONS
from workspace.store.migrate import MIGRATIONS_DIR
from workspace.sync import sync_survey

ROLES = ("nps", "csat", "ces", "matrix")
METRIC_QUESTION = {"nps": ("QID1", "nps"), "csat": ("QID1", "csat"), "ces": ("QID1", "ces"),
                   "matrix": ("QID1_1", "csat")}


# ---------------------------------------------------------------- helpers


def track(settings: Settings, sb: Sandbox, role: str) -> metrics.Metric:
    """A metric on the survey's rating question, created after reading its definition (as the wizard does)."""
    survey_id = sb.survey_ids[role]
    with open_client(settings) as client:
        catalog.refresh_questions(settings, client, survey_id)
    question_id, metric_type = METRIC_QUESTION[role]
    return metrics.create_metric(settings, survey_id, question_id, metric_type)


def stored_comments(settings: Settings, survey_id: str, question_id: str = "QID2_TEXT") -> pd.DataFrame:
    with store.connect(settings.store) as db:
        return db.frame(
            'SELECT r.response_id AS "responseId", c.recorded_date AS "recordedDate", c.text AS value '
            "FROM comments c JOIN responses r ON r.id = c.response WHERE c.survey_id = ? AND c.question_id = ?",
            (survey_id, question_id))


def assert_comments_equal_truth(settings: Settings, sb: Sandbox, survey_id: str) -> int:
    stored = normalised(stored_comments(settings, survey_id))
    truth = normalised(sb.expected_answers(survey_id, "QID2_TEXT"))
    assert len(truth) > 0
    pd.testing.assert_frame_equal(stored, truth)
    return len(stored)


def stored_question_ids(settings: Settings, survey_id: str) -> set[str]:
    with store.connect(settings.store) as db:
        return {r[0] for r in db.execute("SELECT DISTINCT question_id FROM answers WHERE survey_id = ?",
                                         (survey_id,))}


def definition_reads(sb: Sandbox, survey_id: str) -> int:
    return sum(1 for r in list(sb.requests) if r.path.rstrip("/").endswith(f"/survey-definitions/{survey_id}")
               or r.path.rstrip("/").endswith(f"/surveys/{survey_id}"))


# ---------------------------------------------------------------- the client


@pytest.mark.parametrize("role", ROLES)
def test_catalog_lists_the_open_text_question_and_embedded_fields_in_both_definition_shapes(sandbox, role):
    survey_id = sandbox.survey_ids[role]
    spec = sandbox.survey(role)
    with QualtricsClient.with_api_token(sandbox.base_url, sandbox.api_token) as client:
        pascal = client.question_catalog(survey_id)
        camel = parse_definition(client.get_json(f"surveys/{survey_id}", "the older survey shape"))
    text = next(q for q in spec.questions if q.kind == "text")
    for found in (pascal, camel):
        assert [q.id for q in found.open_text] == [f"{text.qid}_TEXT"]
        assert found.open_text[0].question_id == text.qid
        assert "<" not in found.open_text[0].text and found.open_text[0].text
        assert found.embedded_data == spec.embedded_fields == ("region", "channel")
        # still no metric: the open-text question stays skipped with its reason
        assert text.qid in {s.id for s in found.skipped}
        assert text.qid not in {q.id for q in found.questions}


def test_real_definitions_yield_their_text_boxes_and_nested_embedded_data():
    beskar = json.loads(
        shared_fixture("qualtrics-real/survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json").read_text())
    found = parse_definition(beskar)
    assert found.open_text == (
        OpenTextQuestion("QID19_TEXT", "QID19", found.open_text[0].export_tag, "Why not?"),
        OpenTextQuestion("QID22_TEXT", "QID22", found.open_text[1].export_tag, found.open_text[1].text))
    assert found.embedded_data == ("SolutionRevision",)  # set inside a Group of the flow
    qsf = parse_definition(json.loads(
        shared_fixture("qualtrics-real/survey_definition_qsf_SV_6s93xhVtm1e4j3v.json").read_text()))
    # QID10 is a form: no single column; QID11 sits in the Trash block, so no respondent answers it.
    assert [q.id for q in qsf.open_text] == ["QID9_TEXT"]
    assert qsf.embedded_data == ()


# ---------------------------------------------------------------- sync


@pytest.mark.parametrize("role", ["nps", "matrix"])
def test_sync_stores_the_open_text_answers_exactly_and_scores_never_see_them(tmp_path, sandbox, role):
    s = settings_for(tmp_path, sandbox)
    m = track(s, sandbox, role)
    result = sync_survey(s, m.survey_id)
    assert result.status == "succeeded", result.message
    n_comments = assert_comments_equal_truth(s, sandbox, m.survey_id)
    assert result.comments == n_comments
    truth = sandbox.expected_answers(m.survey_id, m.question_id)
    assert result.answers == len(truth), "comments must not be counted as answers"
    assert stored_question_ids(s, m.survey_id) == {m.question_id}
    assert answers.answer_count(s, m.survey_id) == len(truth)
    if role == "nps":
        assert scores.metric_score(s, m.id).value == pytest.approx(sandbox.known_scores()["nps"], abs=1e-9)
    assert scores.metric_card(s, m.id).n <= len(truth)


def test_resync_adds_only_the_new_comments(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "nps")
    first = sync_survey(s, m.survey_id)
    assert first.status == "succeeded", first.message
    before = assert_comments_equal_truth(s, fresh_sandbox, m.survey_id)
    score_before = scores.metric_score(s, m.id)

    fresh_sandbox.add_responses("nps", 40)
    second = sync_survey(s, m.survey_id)
    assert second.status == "succeeded", second.message
    after = assert_comments_equal_truth(s, fresh_sandbox, m.survey_id)
    assert second.responses == 40 and second.comments == after - before
    assert second.backfilled == ()
    assert scores.metric_score(s, m.id).respondents == score_before.respondents + second.answers

    third = sync_survey(s, m.survey_id)
    assert (third.responses, third.comments) == (0, 0)


def test_syncs_read_the_survey_definition_only_when_it_is_missing_or_stale(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "csat")
    reads = definition_reads(fresh_sandbox, m.survey_id)
    for _ in range(3):
        assert sync_survey(s, m.survey_id).status == "succeeded"
    assert definition_reads(fresh_sandbox, m.survey_id) == reads, "QID2_TEXT must not force a definition read"

    with store.connect(s.store) as db, store.transaction(db):  # a day later
        db.execute("UPDATE survey_definitions SET read_at = '2000-01-01T00:00:00Z'")
    assert sync_survey(s, m.survey_id).status == "succeeded"
    assert definition_reads(fresh_sandbox, m.survey_id) == reads + 1
    assert catalog.definition_is_current(s, m.survey_id)


@pytest.mark.sqlite_only
def test_a_database_from_before_comments_migrates_and_backfills_them_keeping_its_answers(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "ces")
    assert sync_survey(s, m.survey_id).status == "succeeded"
    answers_before = answers.answer_count(s, m.survey_id)
    # Turn the file back into what an SQLite-only release's migration 003 left: its own migration records, no
    # comment tables, a token covering QID1 only.
    with sqlite3.connect(s.db_path) as conn:
        legacy = sqlite_utils.Database(memory=True)
        MIGRATIONS.apply(legacy)
        legacy_tables = set(legacy.table_names())
        after_baseline = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                          if name not in legacy_tables and name != "alembic_version"]  # Alembic revisions since
        for table in ("answers", "response_segments"):  # keyed by Qualtrics' response id then, not a number
            columns = [c.name for c in legacy[table].columns]
            picked = ", ".join("r.response_id" if c == "response_id" else f"n.{c}" for c in columns)
            conn.execute(f"ALTER TABLE {table} RENAME TO numbered")
            conn.execute(legacy[table].schema)
            conn.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {picked} FROM numbered n "
                         "JOIN responses r ON r.id = n.response")
            conn.execute("DROP TABLE numbered")
        for table in ("comments", "survey_comment_questions", "survey_embedded_fields", "survey_definitions",
                      *after_baseline):
            conn.execute(f"DROP TABLE {table}")
        conn.execute("DROP TABLE alembic_version")
        conn.execute("CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, "
                     "applied_at TEXT)")
        conn.executemany("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES (?, ?, ?)",
                         [(MIGRATIONS.name, m.name, "2026-01-01") for m in MIGRATIONS._migrations
                          if m.name != "004_comments_and_survey_fields"])
        conn.execute("DELETE FROM synced_questions WHERE question_id = 'QID2_TEXT'")
    store.forget_migrated(s.db_path)
    fresh_sandbox.add_responses("ces", 10)

    since_baseline = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))[1:]
    assert store.migrate(s.db_path) == ["004_comments_and_survey_fields", *since_baseline]
    assert answers.answer_count(s, m.survey_id) == answers_before
    assert runs.survey_state(s, m.survey_id).continuation_token is not None

    result = sync_survey(s, m.survey_id)
    assert result.status == "succeeded", result.message
    assert result.backfilled == ("QID2_TEXT",)
    assert_comments_equal_truth(s, fresh_sandbox, m.survey_id)
    assert answers.answer_count(s, m.survey_id) == len(fresh_sandbox.expected_answers(m.survey_id, "QID1"))
    assert store.current_revision(s.store) == store.HEAD


# ---------------------------------------------------------------- Live


def test_live_comments_are_the_newest_of_the_journeys_surveys_with_their_steps(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    with open_client(s) as client:
        catalog.refresh_surveys(s, client)  # the wizard lists them first; Live names surveys from that list
    nps, csat = track(s, sandbox, "nps"), track(s, sandbox, "csat")
    for m in (nps, csat):
        assert sync_survey(s, m.survey_id).status == "succeeded"
    journey = journey_view.create_with_stages(s, "Onboarding", "Discover, Use")
    first = journeys.add_step(s, journey.stages[0].id, "Landing page")
    second = journeys.add_step(s, journey.stages[1].id, "Dashboard")
    journeys.place_metric(s, nps.id, first.id)
    journeys.place_metric(s, nps.id, second.id)

    shown = live.comments(s, journey.id, limit=5)

    truth = sandbox.expected_answers(nps.survey_id, "QID2_TEXT").sort_values(
        ["recordedDate", "responseId"], ascending=False).head(5)
    assert [c.text for c in shown] == list(truth["value"])
    assert {c.survey_id for c in shown} == {nps.survey_id}, "CSAT is not on this journey"
    assert all(c.steps == ("Landing page", "Dashboard") for c in shown)
    assert all(c.survey_name == "Customer NPS - Product Experience" for c in shown)
    assert live.comments(s, journey.id, limit=0) == []


# ---------------------------------------------------------------- segments from the wizard


def regions_and_scores(sb: Sandbox, survey_id: str) -> pd.DataFrame:
    """QID1 and region of every response, from a raw CSV export (not through the app's client)."""
    _, file = run_export(api_session(sb), sb.base_url, survey_id, {
        "format": "csv", "questionIds": ["QID1"], "embeddedDataIds": ["region"],
        "surveyMetadataIds": ["recordedDate"]})
    with zipfile.ZipFile(io.BytesIO(file.content)) as archive:
        frame = pd.read_csv(archive.open(archive.namelist()[0]), skiprows=[1, 2], dtype=str)
    return frame.rename(columns={"Q1": "QID1"})


class TestPagesOnASandboxOfTheirOwn:
    """Page tests that add responses: the pages' runtime fixture (tests/test_pages.py ``settings``) pointed
    at a sandbox of the test's own, so the session's sandbox keeps its data."""

    @pytest.fixture
    def sandbox(self, fresh_sandbox: Sandbox) -> Sandbox:
        return fresh_sandbox

    def test_live_page_shows_a_new_comment_first_as_plain_text(self, settings, sandbox):
        s = settings
        connect(s)
        wizard.surveys(s)
        m = track(s, sandbox, "nps")
        journey = journey_view.create_with_stages(s, "Onboarding", "Sign up")
        step = journeys.add_step(s, journey.stages[0].id, "Welcome email")
        journeys.place_metric(s, m.id, step.id)
        typed = "<b>Loved</b> it **a lot** [click](http://evil.example) # <script>alert(1)</script>"
        response_id = sandbox.record_response("nps", {"QID1": "10", "QID2_TEXT": typed})
        recorded = sandbox.expected_answers(m.survey_id, "QID2_TEXT").set_index("responseId").loc[response_id]

        at = open_page(routes.LIVE, query={"journey": str(journey.id)})  # opening Live starts the survey's feed
        no_exception(at)
        # The feed stores the answers, then recomputes the watched journey's view in its own thread: a refresh
        # shows the comments once both are done, so refresh the way a wall does until they are there.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            at.run()
            no_exception(at)
            if "Latest comments · 8 comments" in [h.value for h in at.subheader]:
                break
            time.sleep(0.5)

        assert "Latest comments · 8 comments" in [h.value for h in at.subheader]
        texts = [t.value for t in at.text]
        assert texts[0] == recorded["value"] and "**a lot**" in texts[0] and "<b>Loved</b>" in texts[0]
        assert len(texts) == 8
        everything_else = [*(md.value for md in at.markdown), *(e.proto.body for e in at.get("html"))]
        assert not any("Loved" in body for body in everything_else), "a comment must only ever be shown as text"
        captions = [c.value for c in at.caption]
        assert any(c.startswith("Customer NPS \\- Product Experience · Welcome email · ") for c in captions)

    def test_segments_chosen_in_the_wizard_become_the_journeys_filter(self, settings, sandbox):
        s = settings
        connect(s)
        survey_id = sandbox.survey_ids["nps"]
        at = open_page(routes.NEW_METRIC)
        at.selectbox(key="wizard_survey").set_value(survey_id).run()
        at.selectbox(key=f"wizard_question_{survey_id}").set_value("QID1").run()
        no_exception(at)
        chooser = at.multiselect(key=f"wizard_segments_{survey_id}")
        assert chooser.label == "Segments"
        assert list(chooser.options) == ["region", "channel"] and chooser.value == ["region", "channel"]
        chooser.set_value(["region"]).run()
        at.button(key="wizard_sync").click().run()
        no_exception(at)
        assert answers.segment_fields(s, survey_id) == ["region"]
        metric = metrics.list_metrics(s)[0]
        journey = journey_view.create_with_stages(s, "Onboarding", "Sign up")
        step = journeys.add_step(s, journey.stages[0].id, "Welcome email")
        journeys.place_metric(s, metric.id, step.id)

        truth = regions_and_scores(sandbox, survey_id)
        answered = truth[truth["QID1"].notna()]
        at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
        no_exception(at)
        assert [ms.label for ms in at.multiselect] == ["Region"], "only the chosen field is a filter"
        region = at.multiselect(key=f"segment_{journey.id}_region")
        assert list(region.options) == sorted(truth["region"].dropna().unique())

        def card_text() -> str:
            lane = lane_of(at)
            return lane[lane.index(f'href="metric?id={metric.id}"'):]

        assert format_n(len(answered)) in card_text()
        region.set_value(["EMEA"]).run()
        no_exception(at)
        emea = int((answered["region"] == "EMEA").sum())
        assert 0 < emea < len(answered)
        assert format_n(emea) in card_text()
        assert at.query_params.get("seg_region") == "EMEA"
