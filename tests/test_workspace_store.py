"""The store without Qualtrics: settings, migrations, encryption, OAuth attempts, journeys, metrics, locks,
and scores computed from answers written the way the sync writes them."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import threading
import time

import pandas as pd
import pytest
import sqlite_utils

from qualtrics.models import Choice, Question, Scale
from scoring import Sentiment
from workspace import answers, catalog, integration, jobs, journeys, metrics, people, scores, store
from workspace.config import ConfigError, Settings
from workspace.crypto import SecretKeyError
from workspace.errors import Invalid, NotFound, SyncBusy
from workspace.store.legacy_sqlite import MIGRATIONS
from workspace.store.migrate import MIGRATIONS_DIR

from tests.test_workspace_support import settings_for

NPS_QUESTION = Question(
    id="QID1", export_tag="Q1", text="How likely are you to recommend Journey Pulse to a friend or colleague?",
    type="MC", selector="NPS", choices=tuple(Choice(str(i), str(i), float(i)) for i in range(11)),
    scale=Scale("0-10", 0.0, 10.0), suggested_type="nps")
CSAT_QUESTION = Question(
    id="QID2", export_tag="Q2", text="How satisfied were you with support?", type="MC", selector="SAVR",
    choices=(Choice("1", "Very dissatisfied", 1.0), Choice("2", "Dissatisfied", 2.0), Choice("3", "Neutral", 3.0),
             Choice("4", "Satisfied", 4.0), Choice("5", "Very satisfied", 5.0), Choice("99", "N/A", 99.0)),
    scale=Scale("1-5", 1.0, 5.0), suggested_type="csat")
SURVEY = "SV_pxd3uZe2ir70gnE"


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = settings_for(tmp_path)
    catalog.store_questions(s, SURVEY, [NPS_QUESTION, CSAT_QUESTION])
    return s


def write_batch(settings: Settings, frame: pd.DataFrame, question_ids, segments=()) -> int:
    labels = {q.id: answers.label_lookup(q) for q in (NPS_QUESTION, CSAT_QUESTION)}
    with store.connect(settings.store) as conn, store.transaction(conn):
        return answers.write_batch(conn, SURVEY, frame, question_ids, labels, segments).answers


def batch(rows: list[tuple]) -> pd.DataFrame:
    """rows of (responseId, recordedDate, finished, QID1, QID2, region) as the client's ResponseBatch frame."""
    return pd.DataFrame(rows, columns=["responseId", "recordedDate", "finished", "QID1", "QID2", "region"])


# --- configuration ------------------------------------------------------------------------------------

def test_settings_take_environment_first_then_secrets_toml_then_defaults(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('QUALTRICS_DATACENTER = "fra1"\nPULSE_URL = "https://pulse.example.com/"\n'
                       'PULSE_SYNC_INTERVAL = 60\nQUALTRICS_API_TOKEN = "from-file"\n')
    s = Settings.load({"QUALTRICS_API_TOKEN": "from-env"}, secrets_path=secrets)
    assert s.qualtrics_base_url == "https://fra1.qualtrics.com"
    assert s.api_token == "from-env"
    assert s.redirect_uri == "https://pulse.example.com/api/qualtrics/callback"
    assert s.sync_interval == 60
    assert str(s.db_path) == "data/pulse.db"
    assert "from-env" not in repr(s)
    defaults = Settings.load({}, secrets_path=tmp_path / "missing.toml")
    assert defaults.uses_sandbox and defaults.qualtrics_base_url is None
    assert defaults.redirect_uri == "http://localhost:8501/api/qualtrics/callback"
    assert defaults.sync_interval == 900


def test_base_url_beats_datacenter_and_bad_interval_is_a_sentence(tmp_path):
    s = Settings.load({"QUALTRICS_BASE_URL": "https://acme.iad1.qualtrics.com/API/v3/",
                       "QUALTRICS_DATACENTER": "fra1"}, secrets_path=None)
    assert s.qualtrics_base_url == "https://acme.iad1.qualtrics.com"
    with pytest.raises(ConfigError, match="PULSE_SYNC_INTERVAL"):
        Settings.load({"PULSE_SYNC_INTERVAL": "often"}, secrets_path=None)


# --- database -------------------------------------------------------------------------------------------

@pytest.mark.sqlite_only
def test_new_database_is_wal_with_foreign_keys_and_latest_schema(settings):
    with store.connect(settings.store) as conn:
        assert conn.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.current_revision(settings.store) == store.HEAD
    assert store.migrate(settings.store) == []


@pytest.mark.sqlite_only
def test_older_schema_migrates_forward_keeping_its_metrics_and_answers(tmp_path):
    path = tmp_path / "old.db"
    old = sqlite_utils.Database(path)
    MIGRATIONS.apply(old, stop_before="003_targets_and_segments")
    old.conn.execute(
        "INSERT INTO metrics (title, type, survey_id, question_id, mapping, owner, created_at, updated_at) "
        "VALUES ('NPS', 'nps', ?, 'QID1', ?, 'dana', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
        (SURVEY, json.dumps(metrics.mapping_for(NPS_QUESTION, "nps").to_records())))
    old.conn.execute("INSERT INTO answers VALUES (?, 'QID1', 'R_1', '9', '9', '2026-01-02T00:00:00Z', 1)", (SURVEY,))
    old.conn.commit()
    old.conn.close()

    applied = store.migrate(path)

    since_baseline = sorted(p.name.split("_")[0] for p in (MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))[1:]
    assert applied == [m.name for m in MIGRATIONS._migrations][2:] + since_baseline, \
        "the legacy steps, stamped at the baseline, then the revisions since"
    assert store.current_revision(path) == store.HEAD
    s = settings_for(tmp_path, PULSE_DB=str(path))
    metric = metrics.get_metric(s, 1)
    assert (metric.title, metric.owner, metric.target, metric.direction) == ("NPS", "dana", None, "higher")
    assert scores.metric_score(s, 1).value == 100.0


def test_connections_are_per_operation_and_safe_from_many_threads(settings):
    m = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    errors = []

    def work(k: int) -> None:
        try:
            for i in range(10):
                write_batch(settings, batch([(f"R_{k}_{i}", "2026-01-01T00:00:00Z", True, "10", None, None)]),
                            ["QID1"])
                scores.metric_card(settings, m.id)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert scores.metric_score(settings, m.id).respondents == 60


# --- integration, encryption, OAuth attempts ------------------------------------------------------------

def test_tokens_are_stored_encrypted_and_key_file_is_private(settings):
    token = {"access_token": "AT-plaintext-canary-1234", "refresh_token": "RT-plaintext-canary-5678"}
    integration.save_token(settings, token)
    assert integration.load_token(settings) == token
    assert stat.S_IMODE(os.stat(settings.key_path).st_mode) == 0o600
    assert not (settings.data_dir / "secret.key").exists(), "the key is kept out of the data folder"
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("pulse.db*"))  # the SQLite file and its WAL
    with store.connect(settings.store) as db:  # every row of every table, on either engine
        raw += repr([db.execute(f"SELECT * FROM {table}").fetchall() for table in db.table_names()]).encode()
    assert b"AT-plaintext-canary" not in raw and b"RT-plaintext-canary" not in raw


def test_changed_secret_key_is_reported_not_crashed(settings, tmp_path):
    integration.save_token(settings, {"access_token": "x"})
    other = settings_for(tmp_path, PULSE_SECRET_KEY="another passphrase")  # the same store, another key
    with pytest.raises(SecretKeyError, match="Reauthorize"):
        integration.load_token(other)


def test_pending_oauth_state_is_single_use_and_expires(settings, monkeypatch):
    integration.store_pending_state(settings, "state-1", "verifier-1", "dana@example.com")
    first = integration.consume_pending_state(settings, "state-1")
    assert first is not None and first.code_verifier == "verifier-1" and first.started_by == "dana@example.com"
    assert integration.consume_pending_state(settings, "state-1") is None
    assert integration.consume_pending_state(settings, "never-issued") is None

    integration.store_pending_state(settings, "state-2", "verifier-2", None)
    later = time.time() + integration.STATE_TTL_SECONDS + 1
    monkeypatch.setattr(integration.time, "time", lambda: later)
    assert integration.consume_pending_state(settings, "state-2") is None


def test_roles_decide_who_manages_the_integration():
    assert people.can_manage_integrations(people.Role.MANAGER)
    assert not people.can_manage_integrations(people.Role.EDITOR)
    assert people.can_edit_metrics(people.Role.EDITOR) and not people.can_edit_metrics(people.Role.VIEWER)
    assert people.role_for("Dana@Example.com", managers=["dana@example.com"]) == people.Role.MANAGER
    assert people.role_for("sam@example.com", editors=["*"]) == people.Role.EDITOR
    assert people.role_for(None) == people.Role.VIEWER


# --- journeys and metrics -------------------------------------------------------------------------------

def test_journey_keeps_stages_and_steps_in_order_through_moves_and_deletes(settings):
    j = journeys.create_journey(settings, "Onboarding", stages=[("Discover", ["Visit", "Sign up"]),
                                                                ("Use", ["First run", "Invite team"])])
    assert [s.name for s in j.steps] == ["Visit", "Sign up", "First run", "Invite team"]
    use = j.stages[1]
    journeys.add_step(settings, use.id, "Billing", position=0)
    journeys.move_stage(settings, use.id, 0)
    first_run = next(s for s in j.steps if s.name == "First run")
    journeys.delete_step(settings, first_run.id)
    j = journeys.get_journey(settings, j.id)
    assert [s.name for s in j.stages] == ["Use", "Discover"]
    assert [(s.name, s.position) for s in j.stages[0].steps] == [("Billing", 0), ("Invite team", 1)]
    with pytest.raises(Invalid, match="already exists"):
        journeys.create_journey(settings, "Onboarding")
    assert journeys.find_step(settings, "onboarding", "sign UP").name == "Sign up"
    with pytest.raises(NotFound, match="no step named"):
        journeys.find_step(settings, "Onboarding", "Checkout")


def test_one_metric_sits_on_several_steps_and_deleting_a_journey_keeps_it(settings):
    m = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    a = journeys.create_journey(settings, "A", stages=[("S", ["One", "Two"])])
    b = journeys.create_journey(settings, "B", stages=[("S", ["Three"])])
    for step in (*a.steps, *b.steps):
        journeys.place_metric(settings, m.id, step.id)
    journeys.place_metric(settings, m.id, a.steps[0].id)  # idempotent
    assert [p.step_name for p in journeys.placements_of_metric(settings, m.id)] == ["One", "Two", "Three"]
    journeys.delete_journey(settings, a.id)
    assert [p.journey_name for p in journeys.placements_of_metric(settings, m.id)] == ["B"]
    assert metrics.get_metric(settings, m.id).id == m.id
    metrics.delete_metric(settings, m.id)
    assert journeys.get_journey(settings, b.id).steps[0].metric_ids == ()


def test_metric_gets_default_mapping_title_and_validated_target(settings):
    m = metrics.create_metric(settings, SURVEY, "QID2", "csat", target=4.0)
    assert m.title == "CSAT · Support", "the type and the question's short label, short enough for a lane card"
    na = m.mapping.row_for("99")
    assert na is not None and na.sentiment == Sentiment.EXCLUDED
    with pytest.raises(Invalid, match="nps, csat or ces"):
        metrics.create_metric(settings, SURVEY, "QID2", "stars")
    with pytest.raises(Invalid, match="higher"):
        metrics.update_metric(settings, m.id, direction="up")  # type: ignore[arg-type]
    assert metrics.update_metric(settings, m.id, target=None).target is None


# --- scores from stored answers --------------------------------------------------------------------------

@pytest.fixture
def answered(settings):
    rows = [(f"R_{i:03d}", f"2026-0{1 + i % 3}-1{i % 9}T10:00:00Z", i % 5 != 0, str(i % 11),
             ["1", "2", "3", "4", "5", "99"][i % 6] if i % 4 else None, ["EMEA", "AMER"][i % 2])
            for i in range(120)]
    answers.set_segment_fields(settings, SURVEY, ["region"])
    write_batch(settings, batch(rows), ["QID1", "QID2"], ["region"])
    write_batch(settings, batch(rows[:40]), ["QID1", "QID2"], ["region"])  # a retried batch: no duplicates
    return rows


def test_scores_equal_a_plain_count_of_the_stored_answers(settings, answered):
    nps = metrics.create_metric(settings, SURVEY, "QID1", "nps", target=0, direction="higher")
    values = pd.Series([r[3] for r in answered]).astype(int)
    expected = ((values >= 9).sum() - (values <= 6).sum()) / len(values) * 100
    card = scores.metric_card(settings, nps.id)
    assert card.score.value == pytest.approx(expected)
    assert card.n == 120 and card.n_display == "n = 120"
    assert card.display == f"{expected:.1f}"
    assert card.on_target is bool(expected >= 0)
    assert card.sync_status == "Not synced yet"


def test_changed_mapping_rescores_without_touching_answers(settings, answered):
    csat = metrics.create_metric(settings, SURVEY, "QID2", "csat")
    before = scores.metric_score(settings, csat.id)
    assert before.excluded > 0  # the N/A choice
    remapped = csat.mapping.with_row("99", sentiment=Sentiment.NEUTRAL, score=3.0)
    metrics.update_metric(settings, csat.id, mapping=remapped)
    after = scores.metric_score(settings, csat.id)
    assert after.respondents == before.respondents + before.excluded
    assert after.excluded == 0


def test_filters_by_date_range_segment_and_finished(settings, answered):
    nps = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    january = scores.ScoreFilter(start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 31))
    emea = scores.ScoreFilter(segments={"region": ["EMEA"]})
    finished = scores.ScoreFilter(finished_only=True)
    assert scores.metric_score(settings, nps.id, january).respondents == sum(
        1 for r in answered if r[1].startswith("2026-01"))
    assert scores.metric_score(settings, nps.id, emea).respondents == 60
    assert scores.metric_score(settings, nps.id, finished).respondents == sum(1 for r in answered if r[2])


def test_trend_distribution_and_audit_rows_add_up(settings, answered):
    nps = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    monthly = scores.trend(settings, nps.id, period="month")
    assert list(monthly["respondents"]) == [40, 40, 40]
    dist = scores.distribution(settings, nps.id)
    assert dist["count"].sum() == 120 and list(dist["value"]) == [str(i) for i in range(11)]
    by_sentiment = scores.sentiment_distribution(settings, nps.id).set_index("sentiment")["count"]
    card = scores.metric_card(settings, nps.id)
    assert (by_sentiment["Positive"], by_sentiment["Negative"]) == (card.score.positive, card.score.negative)
    audit = scores.responses(settings, nps.id, limit=None)
    assert len(audit) == 120 and audit["counted"].all() and set(audit["region"]) == {"EMEA", "AMER"}
    assert audit.iloc[0]["recorded_date"] >= audit.iloc[-1]["recorded_date"]


def test_journey_scores_list_each_placed_metric_per_step(settings, answered):
    nps = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    csat = metrics.create_metric(settings, SURVEY, "QID2", "csat")
    j = journeys.create_journey(settings, "Support", stages=[("Help", ["Ask", "Resolve"])])
    journeys.place_metric(settings, nps.id, j.steps[0].id)
    journeys.place_metric(settings, csat.id, j.steps[1].id)
    journeys.place_metric(settings, nps.id, j.steps[1].id)
    frame = scores.journey_scores(settings, j.id)
    assert list(zip(frame["step"], frame["type"])) == [("Ask", "nps"), ("Resolve", "nps"), ("Resolve", "csat")] \
        or list(zip(frame["step"], frame["type"])) == [("Ask", "nps"), ("Resolve", "csat"), ("Resolve", "nps")]
    lane = scores.journey_lane(settings, j.id)
    assert [c.metric_id for c in lane[j.steps[0].id]] == [nps.id]
    detail = scores.metric_detail(settings, nps.id)
    assert [p.step_name for p in detail.placements] == ["Ask", "Resolve"]
    assert detail.segment_options == {"region": ["AMER", "EMEA"]}


def test_no_answers_means_no_score_not_zero(settings):
    m = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    card = scores.metric_card(settings, m.id)
    assert card.score.value is None and card.display == "No score" and card.n == 0


# --- sync jobs --------------------------------------------------------------------------------------------

def test_a_held_sync_job_excludes_a_second_holder_until_released(settings):
    metrics.create_metric(settings, SURVEY, "QID1", "nps")
    with jobs.held(settings, SURVEY, "manual"):
        assert jobs.is_held(settings, SURVEY)
        with pytest.raises(SyncBusy, match="being synced"):
            with jobs.held(settings, SURVEY, "manual", wait=0.1):
                pass
    assert not jobs.is_held(settings, SURVEY)
    with jobs.held(settings, SURVEY, "manual"):
        pass


@pytest.mark.sqlite_only
def test_migrations_are_numbered_in_order():
    names = [m.name for m in MIGRATIONS._migrations]
    assert names == sorted(names) and len(set(names)) == len(names)

