"""``python -m qualtrics.sandbox`` as a process: the four printed lines, options, clean shutdown, a million-response
export with flat memory, and a published Qualtrics client (pyualtrics, from PyPI) working against it unchanged."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import zipfile

import psutil
import pytest
import requests

from tests.sandbox_fixtures import ROOT, api_session, run_sandbox_process

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

KEYS = ["QUALTRICS_BASE_URL", "QUALTRICS_CLIENT_ID", "QUALTRICS_CLIENT_SECRET", "QUALTRICS_API_TOKEN"]


def get(server, path: str) -> requests.Response:
    return requests.get(server.base_url + path, headers={"X-API-TOKEN": server.env["QUALTRICS_API_TOKEN"]})


def authorize(server, redirect_uri: str) -> int:
    params = {"response_type": "code", "client_id": server.env["QUALTRICS_CLIENT_ID"], "redirect_uri": redirect_uri}
    return requests.get(server.base_url + "/oauth2/auth", params=params, allow_redirects=False).status_code


@pytest.mark.slow
def test_cli_prints_four_pasteable_lines_serves_and_stops_on_sigterm():
    with run_sandbox_process() as server:
        assert list(server.env) == KEYS
        assert server.base_url.startswith("http://127.0.0.1:")
        assert get(server, "/API/v3/whoami").status_code == 200
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=10) == 0
        assert server.process.stderr.read() == ""


@pytest.mark.slow
def test_cli_stops_cleanly_on_ctrl_c():
    with run_sandbox_process() as server:
        server.process.send_signal(signal.SIGINT)
        assert server.process.wait(timeout=10) == 0


@pytest.mark.slow
def test_cli_seed_port_and_redirect_uri_options():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with run_sandbox_process("--port", str(port), "--seed", "3",
                             "--redirect-uri", "https://pulse.example/api/qualtrics/callback",
                             "--redirect-uri", "http://localhost:9000/api/qualtrics/callback") as server:
        assert server.base_url == f"http://127.0.0.1:{port}"
        ids = {s["id"] for s in get(server, "/API/v3/surveys").json()["result"]["elements"]}
        with run_sandbox_process() as default:
            assert ids != {s["id"] for s in get(default, "/API/v3/surveys").json()["result"]["elements"]}
        assert authorize(server, "https://pulse.example/api/qualtrics/callback") == 200
        assert authorize(server, "http://localhost:9000/api/qualtrics/callback") == 200
        assert authorize(server, "http://localhost:8501/api/qualtrics/callback") == 400
        taken = subprocess.run([sys.executable, "-m", "qualtrics.sandbox", "--port", str(port)], cwd=ROOT,
                               capture_output=True, text=True, timeout=30)
        assert taken.returncode == 2 and "Choose another --port" in taken.stderr and taken.stdout == ""


@pytest.mark.slow
def test_cli_default_redirect_uri_follows_pulse_url():
    with run_sandbox_process(env={"PULSE_URL": "https://pulse.example.org/"}) as server:
        assert authorize(server, "https://pulse.example.org/api/qualtrics/callback") == 200
        assert authorize(server, "http://localhost:8501/api/qualtrics/callback") == 400


@pytest.mark.slow
def test_cli_live_mode_keeps_recording_responses():
    with run_sandbox_process("--live", "--live-interval", "0.1") as server:
        nps_id = next(s["id"] for s in get(server, "/API/v3/surveys").json()["result"]["elements"]
                      if "NPS" in s["name"])
        before = get(server, f"/API/v3/surveys/{nps_id}").json()["result"]["responseCounts"]["auditable"]
        time.sleep(0.6)
        after = get(server, f"/API/v3/surveys/{nps_id}").json()["result"]["responseCounts"]["auditable"]
        assert after > before


@pytest.mark.slow
def test_a_million_response_export_streams_into_the_zip_with_flat_memory(tmp_path):
    with run_sandbox_process("--responses", "1000000") as server:
        process = psutil.Process(server.process.pid)
        session = requests.Session()
        session.headers["X-API-TOKEN"] = server.env["QUALTRICS_API_TOKEN"]
        nps_id = next(s["id"] for s in session.get(server.base_url + "/API/v3/surveys").json()["result"]["elements"]
                      if "NPS" in s["name"])
        url = f"{server.base_url}/API/v3/surveys/{nps_id}/export-responses"
        idle = process.memory_info().rss
        progress_id = session.post(url, json={"format": "csv", "questionIds": ["QID1"]}).json()["result"]["progressId"]
        peak, percents = idle, []
        while True:
            result = session.get(f"{url}/{progress_id}").json()["result"]
            peak = max(peak, process.memory_info().rss)
            percents.append(result["percentComplete"])
            if result["status"] != "inProgress":
                break
            time.sleep(0.05)
        assert result["status"] == "complete" and percents == sorted(percents)
        target = tmp_path / "nps.zip"
        with session.get(f"{url}/{result['fileId']}/file", stream=True) as download, open(target, "wb") as out:
            for chunk in download.iter_content(1 << 20):
                out.write(chunk)
        # memory is flat: the export never holds the responses, only one slice of rows at a time
        assert peak - idle < 100 * 2**20, f"server grew by {(peak - idle) >> 20} MiB"
        with zipfile.ZipFile(target) as archive, archive.open(archive.namelist()[0]) as member:
            lines = sum(1 for _ in member)
        assert lines == 3 + 1_000_000


@pytest.mark.slow
def test_pyualtrics_from_pypi_lists_surveys_and_exports_responses_unchanged(sandbox, tmp_path):
    """pyualtrics 0.5 takes the API base URL as a parameter, so it needs no patch to talk to the sandbox."""
    from pyualtrics.qualtrics import Qualtrics

    client = Qualtrics(qualtricsUrl=f"{sandbox.base_url}/API/v3", qualtricsToken=sandbox.api_token)
    assert client.who_am_i(skipAPICalls=True).id == sandbox.user_id
    surveys = client.get_surveys(skipAPICalls=True)
    assert len(surveys) == 136  # it followed nextPage/offset across both pages
    survey = client.get_survey(survey_id=sandbox.survey_ids["nps"])
    responses = survey.get_responses(folderName=str(tmp_path), skipAPICalls=True)
    expected = sandbox.expected_answers(sandbox.survey_ids["nps"], "QID1")
    assert len(responses) == sandbox.store.total(sandbox.survey("nps"))
    answered = {r.id: r.answers["Q1"] for r in responses if r.answers["Q1"]}
    assert answered == dict(zip(expected.responseId, expected.value))
    assert api_session(sandbox).get(f"{sandbox.base_url}/API/v3/whoami").status_code == 200
