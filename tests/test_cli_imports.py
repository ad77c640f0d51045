"""The command line starts light: `import workspace.cli` (what every `python -m workspace …` pays before its
command runs) brings in neither pandas/numpy (scores, the sync's parser) nor Streamlit nor SQLAlchemy
(migrations only), nor the HTTP and crypto libraries of the commands that call Qualtrics or open a stored
grant, so `sync --all` with nothing new is not a second of imports. Checked in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "numpy", "streamlit", "sqlalchemy", "alembic", "plotly", "scipy", "psycopg")
#: What only some commands need: Qualtrics calls (requests), OAuth grants and stored secrets.
NETWORK_AND_CRYPTO = ("requests", "urllib3", "requests_oauthlib", "oauthlib", "cryptography")


def _imported_by(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))"
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_importing_the_command_line_loads_no_dataframe_ui_or_migration_library():
    assert _imported_by("import workspace.cli").isdisjoint(HEAVY + NETWORK_AND_CRYPTO)


def test_building_every_command_parser_loads_none_of_them_either():
    loaded = _imported_by("from workspace.cli import build_parser\nbuild_parser().parse_args(['sync', '--all'])")
    assert loaded.isdisjoint(HEAVY + NETWORK_AND_CRYPTO)


def test_the_score_command_keeps_its_arguments():
    from workspace.cli import build_parser

    args = build_parser().parse_args(["score", "export.csv", "--type", "nps", "--question", "QID1", "QID2"])
    assert (args.file, args.metric_type, args.question) == ("export.csv", "nps", ["QID1", "QID2"])


def test_a_re_sync_with_nothing_new_stores_nothing_and_never_loads_pandas(tmp_path, sandbox):
    import os

    from tests.test_workspace_support import settings_for
    from workspace import catalog, metrics, sync
    from workspace.connection import open_client

    # The test's store on either engine (settings_for), and the same one for the process (PULSE_DB, and on
    # PostgreSQL the test's PULSE_DATABASE_URL, which os.environ holds).
    settings = settings_for(tmp_path, sandbox, PULSE_SECRET_KEY="test-key")
    env = {**os.environ, **sandbox.env(), "PULSE_DB": str(settings.db_path), "PULSE_SECRET_KEY": "test-key"}
    survey_id = sandbox.survey_ids["nps"]
    with open_client(settings) as client:
        catalog.refresh_questions(settings, client, survey_id)
    metrics.create_metric(settings, survey_id, "QID1", "nps")
    assert sync.sync_survey(settings, survey_id).answers > 0
    probe = ("import io, json, sys\nfrom workspace.cli import main\nerr = io.StringIO()\n"
             "code = main(['sync', '--all'], io.StringIO(), err)\n"
             "print(json.dumps([code, err.getvalue(), sorted(sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    code, progress, loaded = json.loads(out.stdout.splitlines()[-1])
    assert code == 0 and "0 responses exported, 0 answers stored" in progress, progress
    # An API token: no grant to refresh or decrypt; the stored definition: none to parse.
    assert {m.split(".")[0] for m in loaded}.isdisjoint({"pandas", "scipy", "requests_oauthlib", "oauthlib",
                                                          "cryptography"})
    assert "qualtrics.definitions" not in loaded
