"""QualtricsClient against the sandbox over real HTTP: listing, definitions, exports, and every fault switch."""

from __future__ import annotations

import time

import pandas as pd
import pytest

from qualtrics.client import QualtricsClient
from qualtrics.errors import (
    CorruptExport,
    ExportFailed,
    ExportTimeout,
    NotFound,
    PermissionDenied,
    QualtricsError,
    ServerUnavailable,
)
from qualtrics.export import PollPolicy
from qualtrics.permissions import REQUIRED_PERMISSIONS
from qualtrics.transport import CappedRetry, RetryPolicy
from tests.test_qualtrics_oauth import authorize, sandbox_app

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

FAST_RETRY = RetryPolicy(attempts=6, backoff=0.01, jitter=0.01, timeout=(5.0, 30.0))
FAST_POLL = PollPolicy(initial=0.01, factor=1.5, maximum=0.05, deadline=30.0)


def token_client(sb, **options) -> QualtricsClient:
    return QualtricsClient.with_api_token(sb.base_url, sb.api_token, retry=FAST_RETRY, poll=FAST_POLL, **options)


def oauth_client(sb, saved: list | None = None) -> QualtricsClient:
    token = authorize(sb)
    return QualtricsClient.with_oauth(sandbox_app(sb), token, on_token=(saved if saved is not None else []).append,
                                      retry=FAST_RETRY, poll=FAST_POLL)


def exported(client: QualtricsClient, survey_id: str, question_ids, **kwargs) -> tuple[pd.DataFrame, object]:
    export = client.export_responses(survey_id, question_ids, **kwargs)
    frames = [b.frame for b in export.batches()]
    return pd.concat(frames, ignore_index=True), export


def answered(frame: pd.DataFrame, question_id: str) -> pd.DataFrame:
    """The export's answered rows in the shape of sandbox.expected_answers, sorted for comparison."""
    rows = frame[frame[question_id].notna()][["responseId", "recordedDate", question_id]]
    rows = rows.rename(columns={question_id: "value"}).astype(str)
    return rows.sort_values("responseId").reset_index(drop=True)


def truth(sb, survey_id: str, question_id: str) -> pd.DataFrame:
    expected = sb.expected_answers(survey_id, question_id).copy()
    expected["recordedDate"] = expected["recordedDate"].dt.floor("s").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    return expected[["responseId", "recordedDate", "value"]].astype(str).sort_values("responseId").reset_index(
        drop=True)


def assert_export_is_ground_truth(sb, client, role="nps", question_id="QID1", **kwargs):
    survey_id = sb.survey_ids[role]
    frame, export = exported(client, survey_id, [question_id], **kwargs)
    assert frame["responseId"].is_unique
    pd.testing.assert_frame_equal(answered(frame, question_id), truth(sb, survey_id, question_id))
    return frame, export


# ---------------------------------------------------------------- reading the account and surveys

def test_whoami_reads_the_account(sandbox):
    account = token_client(sandbox).whoami()
    assert account.user_id == sandbox.user_id
    assert (account.first_name, account.last_name, account.email) == ("Dana", "Demo", "dana.demo@example.com")
    assert account.account_type == "UT_BRANDADMIN"


def test_permissions_all_granted_by_default(sandbox):
    check = token_client(sandbox).permissions()
    assert check.granted == REQUIRED_PERMISSIONS and check.missing == () and check.ok


def test_missing_permissions_are_named_by_their_ui_names(sandbox):
    sandbox.faults.missing_permissions = ["Download Survey Results", "Access API"]
    check = token_client(sandbox).permissions()
    assert check.missing == ("Access API", "Download Survey Results")
    assert not check.ok


def test_surveys_follow_next_page_across_all_pages(sandbox):
    surveys = token_client(sandbox).surveys()
    ids = [s.id for s in surveys]
    assert len(ids) == len(set(ids)) == len(sandbox.catalog.visible())
    assert len(ids) > 100  # more than one page of 100
    assert set(sandbox.survey_ids.values()) <= set(ids)


@pytest.mark.parametrize("role, ids, scale, suggested", [
    ("nps", ["QID1"], "0-10", "nps"),
    ("csat", ["QID1"], "1-5", "csat"),
    ("ces", ["QID1"], "1-7", "ces"),
    ("matrix", ["QID1_1", "QID1_2", "QID1_3", "QID1_4", "QID1_5"], "1-5", None),
])
def test_questions_of_the_demo_surveys(sandbox, role, ids, scale, suggested):
    catalog = token_client(sandbox).question_catalog(sandbox.survey_ids[role])
    assert [q.id for q in catalog.questions] == ids
    assert {q.scale.kind for q in catalog.questions} == {scale}
    if suggested:
        assert {q.suggested_type for q in catalog.questions} == {suggested}
    assert all(s.reason for s in catalog.skipped)


def test_csat_na_choice_keeps_its_out_of_range_recode_out_of_the_scale(sandbox):
    q = token_client(sandbox).questions(sandbox.survey_ids["csat"])[0]
    na = [c for c in q.choices if c.value == "99"]
    assert na and na[0].recode == 99.0
    assert (q.scale.minimum, q.scale.maximum) == (1.0, 5.0)


def test_unknown_survey_is_a_not_found_error_with_advice(sandbox):
    with pytest.raises(NotFound, match="check the id"):
        token_client(sandbox).questions("SV_doesnotexist123")


# ---------------------------------------------------------------- exports equal ground truth

@pytest.mark.parametrize("role, question_id", [("nps", "QID1"), ("csat", "QID1"), ("ces", "QID1"),
                                                ("matrix", "QID1_3")])
def test_export_rows_are_exactly_the_sandbox_rows(sandbox, role, question_id):
    assert_export_is_ground_truth(sandbox, token_client(sandbox), role, question_id)


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_and_ndjson_exports_equal_ground_truth_too(sandbox, fmt):
    assert_export_is_ground_truth(sandbox, token_client(sandbox), fmt=fmt)


def test_export_batches_are_bounded_and_progress_covers_every_stage(sandbox):
    stages: list[tuple[str, float]] = []
    frame, export = assert_export_is_ground_truth(
        sandbox, token_client(sandbox), batch_rows=250, progress=lambda s, f: stages.append((s, f)))
    assert export.rows == len(frame)
    assert [s for s, _ in stages][0] == "export"
    assert {s for s, _ in stages} == {"export", "download", "parse"}
    assert max(f for s, f in stages if s == "parse") == 1.0


def test_continuation_token_exports_only_responses_recorded_since(fresh_sandbox):
    sb = fresh_sandbox
    client = token_client(sb)
    survey_id = sb.survey_ids["nps"]
    first, export = exported(client, survey_id, ["QID1"])
    token = export.continuation_token
    assert token
    sb.add_responses("nps", 7)
    second, export2 = exported(client, survey_id, ["QID1"], continuation_token=token)
    assert len(second) == 7
    assert not set(second["responseId"]) & set(first["responseId"])
    assert export2.continuation_token and export2.continuation_token != token
    combined = pd.concat([first, second], ignore_index=True)
    pd.testing.assert_frame_equal(answered(combined, "QID1"), truth(sb, survey_id, "QID1"))


def test_embedded_data_columns_come_after_the_questions(sandbox):
    survey_id = sandbox.survey_ids["nps"]
    fields = list(sandbox.survey(survey_id).embedded_fields)
    frame, _ = exported(token_client(sandbox), survey_id, ["QID1"], embedded_data=fields)
    assert list(frame.columns) == ["responseId", "recordedDate", "finished", "QID1", *fields]
    assert frame[fields[0]].notna().any()


# ---------------------------------------------------------------- fault switches, one at a time

FAULTS = {
    "rate_limit": {"rate_limit_next": 2, "retry_after": 1},
    "server_error_500": {"server_error_next": 2, "server_error_status": 500},
    "server_error_502": {"server_error_next": 2, "server_error_status": 502},
    "server_error_503": {"server_error_next": 2, "server_error_status": 503},
    "server_error_504": {"server_error_next": 2, "server_error_status": 504},
    "dropped_connections": {"drop_next": 3},
    "slow_export": {"export_polls": 6},
    "expiring_tokens": {"token_expires_after_calls": 2},
    "short_token_lifetime": {"access_token_lifetime": 30},
    "broken_zip_once": {"corrupt_zip_next": 1},
}
FIRED = {"rate_limit": "rate_limit", "dropped_connections": "drop"}


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_export_survives_each_fault_alone(fresh_sandbox, name):
    sb = fresh_sandbox
    saved: list[dict] = []
    issued_short = "access_token_lifetime" in FAULTS[name]
    if issued_short:  # the lifetime applies to tokens issued from now on, including the first one
        sb.faults.update(FAULTS[name])
    client = oauth_client(sb, saved)
    if not issued_short:
        sb.faults.update(FAULTS[name])
    assert_export_is_ground_truth(sb, client)
    if name in FIRED:
        assert sb.faults_fired.get(FIRED[name], 0) >= 1
    if name in ("expiring_tokens", "short_token_lifetime"):
        assert saved, "the client should have refreshed and handed the new token to on_token"
    if name == "broken_zip_once":
        assert sb.faults.corrupt_zip_next == 0


@pytest.mark.slow
def test_export_survives_all_faults_together(fresh_sandbox):
    sb = fresh_sandbox
    saved: list[dict] = []
    client = oauth_client(sb, saved)
    combined: dict = {}
    for name in ("rate_limit", "server_error_503", "dropped_connections", "slow_export", "expiring_tokens",
                 "broken_zip_once"):
        combined.update(FAULTS[name])
    combined.update({"rate_limit_every": 15, "export_fail_next": 1})
    sb.faults.update(combined)
    with pytest.raises(ExportFailed, match="try again"):
        exported(client, sb.survey_ids["nps"], ["QID1"])
    # the next sync, with every other fault still armed, gets exactly the sandbox's rows
    assert_export_is_ground_truth(sb, client)
    assert_export_is_ground_truth(sb, client, role="matrix", question_id="QID1_2")
    assert saved
    fired = sb.faults_fired
    assert {"drop", "rate_limit", "server_error"} <= set(fired), fired


def test_a_failed_export_job_is_an_export_failed_error(sandbox):
    sandbox.faults.export_fail_next = 1
    with pytest.raises(ExportFailed, match="could not export"):
        exported(token_client(sandbox), sandbox.survey_ids["nps"], ["QID1"])


def test_a_zip_broken_twice_is_a_corrupt_export_error(sandbox):
    sandbox.faults.corrupt_zip_next = 2
    with pytest.raises(CorruptExport, match="damaged twice"):
        exported(token_client(sandbox), sandbox.survey_ids["nps"], ["QID1"])


def test_an_export_that_never_finishes_hits_the_deadline(sandbox):
    sandbox.faults.export_polls = 10_000
    client = QualtricsClient.with_api_token(
        sandbox.base_url, sandbox.api_token, retry=FAST_RETRY,
        poll=PollPolicy(initial=0.01, maximum=0.05, deadline=0.5))
    with pytest.raises(ExportTimeout, match="did not finish"):
        exported(client, sandbox.survey_ids["nps"], ["QID1"])


def test_persistent_server_errors_end_as_server_unavailable(sandbox):
    sandbox.faults.server_error_next = 50
    client = QualtricsClient.with_api_token(sandbox.base_url, sandbox.api_token,
                                            retry=RetryPolicy(attempts=2, backoff=0.01, jitter=0.0))
    with pytest.raises(ServerUnavailable, match="try again"):
        client.surveys()


def test_wrong_api_token_is_an_authentication_error_naming_the_setting(sandbox):
    client = QualtricsClient.with_api_token(sandbox.base_url, "not-the-token", retry=FAST_RETRY)
    with pytest.raises(QualtricsError, match="QUALTRICS_API_TOKEN"):
        client.whoami()


def test_a_survey_of_another_user_is_a_permission_error_with_advice(sandbox):
    foreign = next(s for s in sandbox.catalog.surveys if s.role == "foreign")
    with pytest.raises(PermissionDenied, match="own or collaborate"):
        token_client(sandbox).questions(foreign.id)


def test_export_without_download_permission_is_a_permission_error(sandbox):
    sandbox.faults.missing_permissions = ["Download Survey Results"]
    with pytest.raises(PermissionDenied, match="download survey results"):
        exported(token_client(sandbox), sandbox.survey_ids["nps"], ["QID1"])


@pytest.mark.parametrize("fmt", ["csv", "json", "ndjson"])
def test_an_incremental_export_with_nothing_new_yields_no_rows_and_a_token(sandbox, fmt):
    client = token_client(sandbox)
    survey_id = sandbox.survey_ids["ces"]
    _, first = exported(client, survey_id, ["QID1"], fmt=fmt)
    export = client.export_responses(survey_id, ["QID1"], fmt=fmt, continuation_token=first.continuation_token)
    assert list(export.batches()) == []
    assert export.rows == 0 and export.continuation_token


@pytest.mark.parametrize("role", ["nps", "csat", "ces", "matrix", "loop", "carry"])
def test_both_definition_endpoints_give_the_same_questions(sandbox, role):
    from qualtrics.definitions import parse_definition

    client = token_client(sandbox)
    survey_id = sandbox.survey_ids[role]
    pascal = parse_definition(client.get_json(f"survey-definitions/{survey_id}", "definition"))
    camel = parse_definition(client.get_json(f"surveys/{survey_id}", "survey"))
    assert pascal.questions == camel.questions
    # the camelCase shape leaves the Trash out altogether; the definition lists its questions as skipped
    trashed = [s.id for s in pascal.skipped if "Trash" in s.reason]
    assert trashed == (["QID3"] if role == "nps" else [])
    assert [s.id for s in pascal.skipped if s.id not in trashed] == [s.id for s in camel.skipped]


def test_retry_after_is_honoured(sandbox):
    sandbox.faults.update({"rate_limit_next": 1, "retry_after": 1})
    started = time.monotonic()
    token_client(sandbox).whoami()
    assert time.monotonic() - started >= 0.95  # FAST_RETRY's own backoff is 10 ms
    assert sandbox.faults_fired.get("rate_limit") == 1


def test_a_retry_after_longer_than_the_cap_is_shortened(sandbox, monkeypatch):
    monkeypatch.setattr(CappedRetry, "MAX_RETRY_AFTER", 0.2)
    sandbox.faults.update({"rate_limit_next": 1, "retry_after": 300})
    started = time.monotonic()
    token_client(sandbox).whoami()
    assert time.monotonic() - started < 5


def test_a_server_that_never_answers_times_out_instead_of_hanging():
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    threading.Thread(target=lambda: accepted.append(listener.accept()[0]), daemon=True).start()
    port = listener.getsockname()[1]
    client = QualtricsClient.with_api_token(
        f"http://127.0.0.1:{port}", "token", retry=RetryPolicy(attempts=0, timeout=(0.5, 0.5)))
    started = time.monotonic()
    try:
        with pytest.raises(ServerUnavailable, match="timed out"):
            client.whoami()
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert time.monotonic() - started < 5


def test_concurrent_requests_after_expiry_share_one_refresh(fresh_sandbox):
    from concurrent.futures import ThreadPoolExecutor

    sb = fresh_sandbox
    saved: list[dict] = []
    client = oauth_client(sb, saved)
    client.whoami()
    current = client.credentials.token["access_token"]
    sb.oauth.access_tokens[current].expires = 0  # the server forgets it: every request now gets 401 AUTH_6.0
    with ThreadPoolExecutor(max_workers=8) as pool:
        accounts = list(pool.map(lambda _: client.whoami(), range(8)))
    assert {a.user_id for a in accounts} == {sb.user_id}
    assert len(saved) == 1
