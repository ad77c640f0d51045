"""``python -m qualtrics`` (design.md section 5) against the sandbox: tables, export file, one-line failures."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from qualtrics.__main__ import stored_client
from qualtrics.cli import NO_CONNECTION, format_table, main
from qualtrics.exportfile import read_export_file
from tests.engines import store_env

ROOT = Path(__file__).resolve().parent.parent


def run(argv, env):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=env, stdout=out, stderr=err, stored_client=stored_client)
    return code, out.getvalue(), err.getvalue()


def token_env(sb) -> dict[str, str]:
    return {"QUALTRICS_BASE_URL": sb.base_url, "QUALTRICS_API_TOKEN": sb.api_token}


def test_surveys_prints_every_survey_in_aligned_columns(sandbox):
    code, out, err = run(["surveys"], token_env(sandbox))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "STATUS", "LAST", "MODIFIED", "NAME"]
    assert len(lines) - 1 == len(sandbox.catalog.visible())
    name_at = lines[0].index("NAME")
    assert all(line[name_at - 2:name_at] == "  " and line[name_at] != " " for line in lines[1:])
    listed = {line.split()[0] for line in lines[1:]}
    assert set(sandbox.survey_ids.values()) <= listed


def test_questions_lists_matrix_rows_with_their_scale_and_skipped_questions(sandbox):
    code, out, err = run(["questions", sandbox.survey_ids["matrix"]], token_env(sandbox))
    assert code == 0, err
    rows = [line.split()[:4] for line in out.splitlines()[1:6]]
    assert [r[0] for r in rows] == [f"QID1_{i}" for i in range(1, 6)]
    assert {r[3] for r in rows} == {"1-5"}
    assert "Skipped:" in out and "open-text answers have no scale" in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_writes_a_file_the_score_reader_understands(sandbox, tmp_path, fmt):
    out_file = tmp_path / f"nps.{fmt}"
    survey_id = sandbox.survey_ids["nps"]
    code, out, err = run(["export", survey_id, "--out", str(out_file), "--format", fmt], token_env(sandbox))
    assert code == 0, err
    assert "export" in err and "download" in err and f"wrote {out_file}" in err
    frame = pd.concat([b.frame for b in read_export_file(out_file, ["QID1"])], ignore_index=True)
    answered = frame[frame["QID1"].notna()].sort_values("responseId")
    expected = sandbox.expected_answers(survey_id, "QID1").sort_values("responseId")
    assert answered["responseId"].tolist() == expected["responseId"].tolist()
    assert answered["QID1"].astype(str).tolist() == expected["value"].astype(str).tolist()


def test_failure_is_one_line_on_stderr_with_a_non_zero_exit(sandbox):
    code, out, err = run(["questions", "SV_doesnotexist123"], token_env(sandbox))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: Qualtrics could not find survey SV_doesnotexist123")


def test_token_without_base_url_says_which_setting_is_missing():
    code, _, err = run(["surveys"], {"QUALTRICS_API_TOKEN": "t"})
    assert code == 1 and "QUALTRICS_BASE_URL" in err and "QUALTRICS_DATACENTER" in err


def test_without_token_or_stored_connection_the_user_is_told_how_to_connect(monkeypatch):
    monkeypatch.setitem(sys.modules, "workspace.connection", None)  # import fails: nothing stored to use
    code, _, err = run(["surveys"], {})
    assert code == 1 and err.strip() == f"error: {NO_CONNECTION}"


def test_usage_error_exits_2_from_argparse():
    with pytest.raises(SystemExit) as exc:
        main(["export", "SV_x"], env={}, stdout=io.StringIO(), stderr=io.StringIO())
    assert exc.value.code == 2


def test_format_table_pads_all_but_the_last_column():
    assert format_table(("A", "BB"), [("xxx", "y"), ("z", "long text")]).splitlines() == [
        "A    BB", "xxx  y", "z    long text"]


@pytest.mark.slow
def test_python_dash_m_qualtrics_runs_and_never_prints_a_traceback(sandbox):
    env = {**os.environ, **token_env(sandbox), "PYTHONPATH": str(ROOT)}
    ok = subprocess.run([sys.executable, "-m", "qualtrics", "surveys"], cwd=ROOT, env=env, capture_output=True,
                        text=True, timeout=60)
    assert ok.returncode == 0 and sandbox.survey_ids["nps"] in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "qualtrics", "questions", "SV_nope"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr and bad.stderr.startswith("error: ")


def _app_env(sb, tmp_path) -> dict[str, str]:
    return {"QUALTRICS_BASE_URL": sb.base_url, "QUALTRICS_CLIENT_ID": sb.client_id,
            "QUALTRICS_CLIENT_SECRET": sb.client_secret, "PULSE_DB": str(tmp_path / "pulse.db"),
            "PULSE_URL": "http://localhost:8501", **store_env()}


def test_without_a_token_the_connection_stored_by_the_app_is_used(sandbox, tmp_path, monkeypatch):
    from tests.test_workspace_support import BROWSER, authorize_in_browser
    from workspace import connection
    from workspace.config import Settings

    monkeypatch.chdir(tmp_path)  # no .streamlit/secrets.toml from the repo
    env = _app_env(sandbox, tmp_path)
    settings = Settings.load(env)
    callback = authorize_in_browser(settings)
    assert connection.complete_authorization(settings, callback["state"], callback["code"],
                                             browser=BROWSER).name == "CONNECTED"
    code, out, err = run(["questions", sandbox.survey_ids["nps"]], env)
    assert code == 0, err
    assert out.splitlines()[1].split()[:4] == ["QID1", "Q1", "MC/NPS", "0-10"]


def test_app_settings_without_a_stored_grant_fail_in_one_line(sandbox, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(["surveys"], _app_env(sandbox, tmp_path))
    assert code == 1 and out == "" and err.startswith("error: ") and err.count("\n") == 1
    assert "Authorize" in err or "QUALTRICS_API_TOKEN" in err
