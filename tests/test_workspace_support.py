"""Helpers shared by the workspace tests (no tests here): settings on a temp database, the consent page a
browser would submit, and a comparison of stored answers with the sandbox's ground truth."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd

from tests import engines
from tests.sandbox_fixtures import approve_in_browser
from workspace import connection
from workspace.config import Settings
from workspace.answers import stored_answers

BROWSER = "the-starting-browser-cookie"


def settings_for(tmp_path: Path, sandbox=None, *, api_token: bool = True, **env: str) -> Settings:
    """Settings on ``tmp_path/pulse.db``; with a sandbox, its URL and (by default) its API token."""
    values = {"PULSE_DB": str(tmp_path / "data" / "pulse.db"), **env}
    if engines.database_url() and "PULSE_DB" not in env:
        values.setdefault("PULSE_DATABASE_URL", engines.database_url())
    if sandbox is not None:
        values.update(QUALTRICS_BASE_URL=sandbox.base_url, QUALTRICS_CLIENT_ID=sandbox.client_id,
                      QUALTRICS_CLIENT_SECRET=sandbox.client_secret)
        if api_token:
            values["QUALTRICS_API_TOKEN"] = sandbox.api_token
    return Settings.load(values, secrets_path=None)


def authorize_in_browser(settings: Settings, started_by: str | None = None, decision: str = "approve",
                         browser: str = BROWSER) -> dict[str, str]:
    """What Authorize does in a browser whose cookie is ``browser``: start an attempt, open the app's start
    route (claims it for that browser), decide on the consent page; returns the callback's parameters."""
    start = connection.begin_authorization(settings, started_by)
    consent = connection.claim_authorization(settings, parse_qs(urlsplit(start).query)["state"][0], browser)
    assert consent is not None, "a fresh attempt is claimable once"
    return approve_in_browser(consent, decision=decision)


def normalised(frame: pd.DataFrame) -> pd.DataFrame:
    """responseId, recordedDate (UTC, to the second), value as str; sorted, for exact comparison."""
    out = pd.DataFrame({
        "responseId": frame["responseId"].astype(str).to_numpy(),
        "recordedDate": pd.to_datetime(frame["recordedDate"], utc=True, format="ISO8601").dt.floor("s").to_numpy(),
        "value": frame["value"].astype(str).to_numpy(),
    })
    return out.sort_values("responseId").reset_index(drop=True)


def assert_stored_equals_truth(settings: Settings, sandbox, survey_id: str, question_id: str) -> int:
    """Stored answers of a question equal the sandbox's ground truth exactly; returns how many."""
    stored = normalised(stored_answers(settings, survey_id, question_id))
    truth = normalised(sandbox.expected_answers(survey_id, question_id))
    assert not stored["responseId"].duplicated().any()
    pd.testing.assert_frame_equal(stored, truth)
    return len(stored)
