"""The sync engine and the connection against the sandbox over real HTTP: exact answers under faults,
incremental re-syncs, backfills, crashes, concurrent processes, OAuth and tokens at rest, the CLI."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qualtrics.sandbox import Sandbox
from workspace import answers, catalog, connection, integration, metrics, runs, scores
from workspace.connection import AuthorizationOutcome, open_client
from workspace.integration import Status
from workspace.sync import sync_survey

from tests.sandbox_fixtures import wait_until
from tests.test_workspace_support import BROWSER, assert_stored_equals_truth, authorize_in_browser, settings_for

ROOT = Path(__file__).resolve().parent.parent


def track(settings, sb, role: str, question_id: str, metric_type: str) -> metrics.Metric:
    survey_id = sb.survey_ids[role]
    with open_client(settings) as client:
        catalog.refresh_questions(settings, client, survey_id)
    return metrics.create_metric(settings, survey_id, question_id, metric_type)


def test_first_sync_stores_exactly_the_sandbox_answers_and_scores_them(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    m = track(s, sandbox, "nps", "QID1", "nps")
    stages = []
    result = sync_survey(s, m.survey_id, progress=lambda stage, fraction: stages.append(stage))
    assert result.status == "succeeded", result.message
    n = assert_stored_equals_truth(s, sandbox, m.survey_id, "QID1")
    assert result.answers == n
    assert [st for st in dict.fromkeys(stages)] == ["export", "download", "parse", "store", "score"]
    card = scores.metric_card(s, m.id)
    assert card.n == n and card.sync_status == "Synced" and card.last_sync
    assert card.score.value == pytest.approx(sandbox.known_scores()["nps"], abs=1e-9)


@pytest.mark.parametrize(("role", "question_id", "known"), [("loop", "2_QID1", "loop:2_QID1"),
                                                          ("carry", "QID2_x3", "carry:QID2_x3")])
def test_loop_and_carry_forward_columns_sync_exactly(tmp_path, sandbox, role, question_id, known):
    """A loop & merge iteration (2_QID1) and a carried-forward row (QID2_x3) sync from their real columns."""
    s = settings_for(tmp_path, sandbox)
    m = track(s, sandbox, role, question_id, "csat")
    result = sync_survey(s, m.survey_id)
    assert result.status == "succeeded", result.message
    assert assert_stored_equals_truth(s, sandbox, m.survey_id, question_id) == result.answers
    assert scores.metric_card(s, m.id).score.value == pytest.approx(sandbox.known_scores()[known], abs=1e-9)


def test_resync_fetches_only_new_responses(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "nps", "QID1", "nps")
    first = sync_survey(s, m.survey_id)
    assert first.status == "succeeded", first.message
    fresh_sandbox.add_responses("nps", 25)
    second = sync_survey(s, m.survey_id)
    assert second.status == "succeeded", second.message
    assert second.responses == 25
    assert_stored_equals_truth(s, fresh_sandbox, m.survey_id, "QID1")
    third = sync_survey(s, m.survey_id)
    assert third.status == "succeeded", third.message
    assert third.responses == 0


def test_metric_on_a_new_question_backfills_it_alone_and_keeps_the_survey_token(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    row1 = track(s, sandbox, "matrix", "QID1_1", "csat")
    assert sync_survey(s, row1.survey_id).status == "succeeded"
    token = runs.survey_state(s, row1.survey_id).continuation_token
    row3 = metrics.create_metric(s, row1.survey_id, "QID1_3", "csat")
    answers.set_segment_fields(s, row1.survey_id, ["region"])
    result = sync_survey(s, row3.survey_id)
    assert result.status == "succeeded", result.message
    assert result.backfilled == ("QID1_3",)
    assert_stored_equals_truth(s, sandbox, row1.survey_id, "QID1_1")
    assert_stored_equals_truth(s, sandbox, row1.survey_id, "QID1_3")
    assert set(answers.segment_values(s, row1.survey_id)["region"]) > set()
    assert runs.survey_state(s, row1.survey_id).continuation_token is not None
    assert token is not None


FAULT_MIXES = [
    {"rate_limit_every": 3, "retry_after": 0},
    {"server_error_next": 2, "server_error_status": 502},
    {"drop_next": 2},
    {"corrupt_zip_next": 1, "export_polls": 3},
    {"export_fail_next": 1},
    {"rate_limit_next": 1, "retry_after": 0, "server_error_next": 1, "drop_next": 1, "corrupt_zip_next": 1},
]


@pytest.mark.parametrize("faults", FAULT_MIXES, ids=[",".join(f) for f in FAULT_MIXES])
def test_after_faults_and_retries_stored_answers_equal_the_sandbox(tmp_path, fresh_sandbox, faults):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "csat", "QID1", "csat")
    fresh_sandbox.faults.update(faults)
    outcomes = []
    for _ in range(4):  # a failed attempt records its reason and leaves the data as it was
        result = sync_survey(s, m.survey_id)
        outcomes.append(result)
        if result.ok:
            break
        assert result.message
        assert runs.get_run(s, result.run_id).status == "failed"
    assert outcomes[-1].status == "succeeded", [o.message for o in outcomes]
    fresh_sandbox.add_responses("csat", 40)
    fresh_sandbox.faults.update(faults)
    for _ in range(4):
        if sync_survey(s, m.survey_id).ok:
            break
    assert_stored_equals_truth(s, fresh_sandbox, m.survey_id, "QID1")


def test_failed_sync_keeps_previous_answers_and_scores(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox)
    m = track(s, fresh_sandbox, "ces", "QID1", "ces")
    assert sync_survey(s, m.survey_id).ok
    before = scores.metric_card(s, m.id)
    fresh_sandbox.add_responses("ces", 10)
    fresh_sandbox.faults.update({"export_fail_next": 5})
    failed = sync_survey(s, m.survey_id)
    assert failed.status == "failed" and "export" in failed.message.lower()
    after = scores.metric_card(s, m.id)
    assert (after.display, after.n) == (before.display, before.n)
    assert after.sync_status == "Sync failed" and after.sync_error == failed.message


def test_busy_survey_is_skipped_not_waited_for(tmp_path, sandbox):
    from workspace import jobs

    s = settings_for(tmp_path, sandbox)
    m = track(s, sandbox, "nps", "QID1", "nps")
    with jobs.held(s, m.survey_id, "manual"):
        result = sync_survey(s, m.survey_id, wait=0)
    assert result.status == "skipped" and "being synced" in result.message
    assert answers.answer_count(s, m.survey_id) == 0


# --- OAuth, tokens at rest, auth failures ------------------------------------------------------------------

def connect_with_oauth(s, sb) -> dict:
    sb.add_redirect_uri(s.redirect_uri)
    connection.enable(s, "dana@example.com")
    callback = authorize_in_browser(s, "dana@example.com")
    assert connection.complete_authorization(s, callback["state"], callback.get("code"), browser=BROWSER) \
        == AuthorizationOutcome.CONNECTED
    return callback


def test_oauth_connects_once_per_state_and_shows_the_account(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, api_token=False)
    assert connection.integration_status(s).actions == ("Enable",)
    callback = connect_with_oauth(s, fresh_sandbox)
    status = connection.integration_status(s)
    assert status.status == Status.ACTIVE and status.actions == ("Disconnect",)
    assert status.account and "Dana" in status.account and status.missing_permissions == ()
    assert status.created_by == "dana@example.com"
    # The same callback again (reload, replay) changes nothing.
    assert connection.complete_authorization(s, callback["state"], callback["code"], browser=BROWSER) \
        == AuthorizationOutcome.INVALID_STATE
    assert connection.integration_status(s).status == Status.ACTIVE


def test_denied_or_forged_callbacks_change_nothing(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, api_token=False)
    fresh_sandbox.add_redirect_uri(s.redirect_uri)
    connection.enable(s, "dana@example.com")
    denied = authorize_in_browser(s, "dana@example.com", decision="deny")
    outcome = connection.complete_authorization(s, denied.get("state"), None, error=denied.get("error"),
                                                browser=BROWSER)
    assert outcome == AuthorizationOutcome.DENIED and "declined" in outcome.message()
    assert connection.complete_authorization(s, "forged", "code", browser=BROWSER) == AuthorizationOutcome.INVALID_STATE
    status = connection.integration_status(s)
    assert status.status == Status.INACTIVE and status.actions == ("Authorize",)
    assert integration.load_token(s) is None


def test_missing_permissions_are_listed_on_the_card(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, api_token=False)
    fresh_sandbox.faults.update({"missing_permissions": ["Edit Surveys", "Filter Survey Results"]})
    connect_with_oauth(s, fresh_sandbox)
    assert connection.integration_status(s).missing_permissions == ("Edit Surveys", "Filter Survey Results")


def test_database_never_holds_a_token_in_plaintext(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, api_token=False)
    from workspace.store import migrate

    migrate(s.db_path)
    # Holding a connection keeps the -wal file from being checkpointed away, so it can be searched too.
    keeper = sqlite3.connect(s.db_path)
    keeper.execute("SELECT count(*) FROM integration").fetchone()
    connect_with_oauth(s, fresh_sandbox)
    issued = [integration.load_token(s)]
    m = track(s, fresh_sandbox, "nps", "QID1", "nps")
    fresh_sandbox.faults.update({"token_expires_after_calls": 2})
    assert sync_survey(s, m.survey_id).ok  # the token dies mid-sync: refreshed, and the new pair saved
    issued.append(integration.load_token(s))
    secrets = {t[k].encode() for t in issued for k in ("access_token", "refresh_token") if t.get(k)}
    assert issued[0]["access_token"] != issued[1]["access_token"] and len(secrets) >= 3
    files = [p for p in s.data_dir.iterdir() if p.name.startswith("pulse.db")]
    assert any(p.name.endswith("-wal") for p in files)
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret not in data, f"token found in {path.name}"
    keeper.close()


def test_revoked_grant_puts_the_integration_in_error_with_reauthorize(tmp_path, fresh_sandbox):
    s = settings_for(tmp_path, fresh_sandbox, api_token=False)
    connect_with_oauth(s, fresh_sandbox)
    m = track(s, fresh_sandbox, "nps", "QID1", "nps")
    fresh_sandbox.faults.update({"refresh_revoked": True, "token_expires_after_calls": 1})
    result = sync_survey(s, m.survey_id)
    assert result.status == "failed"
    status = connection.integration_status(s)
    assert status.status == Status.ERROR and status.actions == ("Reauthorize", "Disconnect")
    assert "reauthorize" in status.error_message.lower()
    fresh_sandbox.reset_faults()
    connect_with_oauth(s, fresh_sandbox)  # Reauthorize repeats the flow
    assert connection.integration_status(s).status == Status.ACTIVE
    assert sync_survey(s, m.survey_id).ok
    connection.disconnect(s)
    assert integration.load_token(s) is None
    assert connection.integration_status(s).actions == ("Authorize",)


# --- processes: concurrency, crashes, the command line --------------------------------------------------------

def cli(env: dict[str, str], *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workspace", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, **kw)


def process_env(s, sb) -> dict[str, str]:
    return {**os.environ, **sb.env(), "PULSE_DB": str(s.db_path), "PULSE_SECRET_KEY": "test-key"}


def test_several_processes_syncing_one_survey_store_each_response_once(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    m = track(s, sandbox, "nps", "QID1", "nps")
    env = process_env(s, sandbox)
    procs = [subprocess.Popen([sys.executable, "-m", "workspace", "sync", "--all"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0, 0], [o[1] for o in outputs]
    assert_stored_equals_truth(s, sandbox, m.survey_id, "QID1")
    # They took turns: one exported every response, the others continued from its token and found none new.
    done = [r for r in runs.latest_runs(s, m.survey_id) if r.status == "succeeded"]
    assert len(done) == 4
    assert sum(r.responses for r in done) == sandbox.survey("nps").responses


@pytest.mark.slow
def test_sync_killed_at_random_points_then_rerun_is_intact_and_exact(tmp_path, sandbox_server_process):
    responses = 150_000
    with sandbox_server_process("--seed", "11", "--responses", str(responses)) as sb_env:
        truth = Sandbox(seed=11, responses=responses)
        s = settings_for(tmp_path, None, PULSE_SECRET_KEY="test-key")
        env = {**os.environ, **{k: v for k, v in sb_env.items() if not k.startswith("_")},
               "PULSE_DB": str(s.db_path), "PULSE_SECRET_KEY": "test-key"}
        survey_id = truth.survey_ids["nps"]
        added = cli(env, "add-metric", "--survey", survey_id, "--question", "QID1", "--type", "nps")
        assert added.returncode == 0, added.stderr
        rng = random.Random(5)
        kills = 0
        for _ in range(40):  # until 10 kills landed: a round that finished first does not count
            if kills >= 10:
                break
            before = [r.id for r in runs.latest_runs(s, survey_id, limit=1)]
            proc = subprocess.Popen([sys.executable, "-m", "workspace", "sync", "--all"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # The random point is counted from the run's start, not the process's: starting Python takes
            # seconds on a loaded machine, and a kill before the sync began would prove nothing.
            wait_until(lambda: proc.poll() is not None or [r.id for r in runs.latest_runs(s, survey_id, limit=1)] != before,
                       timeout=60, what="the sync to start its run")
            time.sleep(rng.uniform(0.0, 1.4))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
        assert kills >= 10
        final = cli(env, "sync", "--all")
        assert final.returncode == 0, final.stderr
        if not s.store.is_postgresql:
            with sqlite3.connect(s.db_path) as conn:
                assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert_stored_equals_truth(s, truth, survey_id, "QID1")
        interrupted = [r for r in runs.latest_runs(s, survey_id, limit=50) if r.error == runs.INTERRUPTED]
        assert interrupted


def test_cli_adds_places_syncs_and_lists_a_metric(tmp_path, sandbox):
    from workspace import journeys

    s = settings_for(tmp_path, sandbox)
    journeys.create_journey(s, "Onboarding", stages=[("Start", ["Sign up"])])
    env = process_env(s, sandbox)
    survey_id = sandbox.survey_ids["nps"]
    added = cli(env, "add-metric", "--survey", survey_id, "--question", "QID1", "--type", "nps",
                "--title", "Product NPS", "--journey", "Onboarding", "--step", "Sign up")
    assert added.returncode == 0, added.stderr
    synced = cli(env, "sync", "--metric", "1")
    assert synced.returncode == 0, synced.stderr
    assert "answers stored" in synced.stderr and "Traceback" not in synced.stderr
    listed = cli(env, "metrics", "--json")
    row = __import__("json").loads(listed.stdout.splitlines()[0])
    assert (row["id"], row["title"], row["type"], row["survey"], row["question"]) == (
        1, "Product NPS", "nps", survey_id, "QID1")
    assert row["n"] == len(sandbox.expected_answers(survey_id, "QID1")) and row["last_sync"]


def test_cli_errors_are_one_sentence_without_traceback(tmp_path, sandbox):
    s = settings_for(tmp_path, sandbox)
    bare = {k: v for k, v in os.environ.items() if not k.startswith(("QUALTRICS_", "PULSE_"))}
    no_connection = cli({**bare, "PULSE_DB": str(s.db_path)}, "add-metric", "--survey", "SV_x", "--question",
                        "QID1", "--type", "nps")
    assert no_connection.returncode == 1
    assert no_connection.stderr.startswith("Error: ") and "QUALTRICS_API_TOKEN" in no_connection.stderr
    unknown = cli(process_env(s, sandbox), "sync", "--metric", "42")
    assert unknown.returncode == 1 and unknown.stderr.strip() == \
        "Error: Metric 42 does not exist (it may have been deleted)."
    for result in (no_connection, unknown):
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
