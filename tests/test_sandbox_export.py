"""The asynchronous export over real HTTP: start/progress/file shapes, CSV header rows and zip naming held against
the real export zips, JSON records, request options, continuation tokens, and the ground truth it must agree with."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import urllib.parse
import zipfile

import pandas as pd
import pytest

from qualtrics.sandbox import Sandbox
from qualtrics.sandbox.ground_truth import monthly_nps
from tests.sandbox_fixtures import api_session, run_export, shared_fixture

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


def real_csv(name: str) -> tuple[str, list[list[str]], bytes]:
    archive = zipfile.ZipFile(shared_fixture(f"qualtrics-real/{name}"))
    (member,) = archive.infolist()
    raw = archive.read(member)
    return member.filename, list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))), raw


def export(sb: Sandbox, role: str, **body) -> tuple[dict, bytes, dict]:
    """(progress result, file bytes, response headers) of a completed export."""
    body.setdefault("format", "csv")
    result, response = run_export(api_session(sb), sb.base_url, sb.survey_ids.get(role, role), body)
    assert result["status"] == "complete", result
    assert response.status_code == 200
    return result, response.content, dict(response.headers)


def unzip(content: bytes) -> tuple[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(content))
    (member,) = archive.infolist()
    return member.filename, archive.read(member)


def rows_of(text: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.decode("utf-8"), newline="")))


def frame_of(text: bytes) -> pd.DataFrame:
    """A CSV export as the product reads it: header row 1, skip rows 2 and 3, everything as str."""
    return pd.read_csv(io.BytesIO(text), skiprows=[1, 2], dtype=str, keep_default_na=False)


# ---------------------------------------------------------------- start / progress shapes


def test_start_and_progress_bodies_have_the_real_keys(sandbox):
    session = api_session(sandbox)
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['csat']}/export-responses"
    sandbox.faults.export_polls = 1  # guarantees one inProgress poll to compare
    started = session.post(url, json={"format": "csv"}).json()
    recorded = json.loads(shared_fixture("qualtrics-real/export_start_response.json").read_text())
    assert set(started) == set(recorded) and set(started["result"]) == set(recorded["result"])
    assert set(started["meta"]) == set(recorded["meta"])
    assert started["result"]["status"] == "inProgress" and started["result"]["percentComplete"] == 0.0
    assert re.fullmatch(r"ES_[A-Za-z0-9]{15}", started["result"]["progressId"])
    progress_id = started["result"]["progressId"]
    running = session.get(f"{url}/{progress_id}").json()
    in_progress = json.loads(shared_fixture("qualtrics-real/export_progress_inprogress.json").read_text())
    assert set(running["result"]) == set(in_progress["result"])
    assert running["result"]["status"] == "inProgress"
    for _ in range(200):
        done = session.get(f"{url}/{progress_id}").json()
        if done["result"]["status"] == "complete":
            break
    complete = json.loads(shared_fixture("qualtrics-real/export_progress_complete.json").read_text())
    assert set(done["result"]) == set(complete["result"])  # no continuationToken unless asked for
    assert done["result"]["percentComplete"] == 100.0
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-def", done["result"]["fileId"])


def test_unknown_progress_and_file_ids_are_404(sandbox):
    session = api_session(sandbox)
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['csat']}/export-responses"
    assert session.get(f"{url}/ES_000000000000000").status_code == 404
    assert session.get(f"{url}/00000000-0000-0000-0000-000000000000-def/file").status_code == 404


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"format": "spss"}, "format"),
        ({"format": "csv", "lastResponseId": "R_1"}, "lastResponseId"),  # legacy field: the real API says 400
        ({"format": "csv", "questionIds": ["QID99"]}, "questionIds"),
        ({"format": "csv", "limit": 0}, "limit"),
        ({"format": "csv", "timeZone": "Mars/Olympus"}, "timeZone"),
        ({"format": "csv", "startDate": "yesterday"}, "startDate"),
        ({"format": "csv", "continuationToken": "forged"}, "continuationToken"),
    ],
)
def test_invalid_export_requests_are_400(sandbox, body, fragment):
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['nps']}/export-responses"
    response = api_session(sandbox).post(url, json=body)
    assert response.status_code == 400
    assert fragment in response.json()["meta"]["error"]["errorMessage"]


# ---------------------------------------------------------------- CSV layout vs the real zips


def test_zip_naming_matches_the_real_download(sandbox):
    _, content, headers = export(sandbox, "nps")
    name = sandbox.survey("nps").name
    # recorded: "content-disposition: attachment; filename=Beskar+Armor.zip", member "Beskar Armor.csv"
    real_member, _, _ = real_csv("export_file_beskar_csat_csv.zip")
    assert f"attachment; filename={urllib.parse.quote_plus('Beskar Armor')}.zip" == "attachment; filename=Beskar+Armor.zip"
    assert real_member == "Beskar Armor.csv"
    assert headers["Content-Disposition"] == f"attachment; filename={urllib.parse.quote_plus(name)}.zip"
    assert headers["Content-Type"] == "application/zip"
    member, _ = unzip(content)
    assert member == f"{name}.csv"
    real_info = zipfile.ZipFile(shared_fixture("qualtrics-real/export_file_beskar_csat_csv.zip")).infolist()[0]
    assert zipfile.ZipFile(io.BytesIO(content)).infolist()[0].compress_type == real_info.compress_type


def test_csv_metadata_header_rows_equal_the_real_export(sandbox):
    _, real_rows, real_raw = real_csv("export_file_beskar_csat_csv.zip")
    # the recorded export asked for timeZone America/Denver and useLabels
    _, content, _ = export(sandbox, "csat", timeZone="America/Denver", useLabels=True)
    _, raw = unzip(content)
    rows = rows_of(raw)
    for i in range(3):
        assert rows[i][:17] == real_rows[i][:17]
    assert raw.count(b"\r\n") == len(rows) and real_raw.count(b"\r\n") == len(real_rows)  # CRLF like the real file
    assert not raw.startswith(b"\xef\xbb\xbf") and not real_raw.startswith(b"\xef\xbb\xbf")
    # every ImportId cell is JSON, as in the real third row
    assert all(json.loads(cell)["ImportId"] for cell in rows[2])


def test_csv_header_rows_without_time_zone_say_z_like_real_api_exports(sandbox):
    """Exports the API made without timeZone (qualtRics cassettes, 2020-2022) mark their dates ``"timeZone":"Z"``."""
    sample = list(csv.reader(io.StringIO(shared_fixture("qualtrics-real/sample.csv").read_text(), newline="")))
    _, content, _ = export(sandbox, "ces")
    rows = rows_of(unzip(content)[1])
    assert rows[0][:17] == sample[0][:17]
    mine = {json.loads(cell)["ImportId"]: json.loads(cell) for cell in rows[2]}
    for name in ("ro_cats_labels_2020.zip", "ro_api_test_project_headers_only_2020.zip"):
        with zipfile.ZipFile(shared_fixture(f"qualtrics-corpus/exports/{name}")) as archive:
            recorded = rows_of(archive.read(archive.namelist()[0]))[2]
        metadata = [json.loads(cell) for cell in recorded if json.loads(cell)["ImportId"] in mine]
        assert len(metadata) >= 8 and all(mine[m["ImportId"]] == m for m in metadata), name
    assert mine["recordedDate"] == {"ImportId": "recordedDate", "timeZone": "Z"}


def test_nps_columns_follow_the_real_nps_export_pattern(sandbox):
    _, real_rows, _ = real_csv("export_file_cats_nps_csv.zip")
    g = real_rows[0].index("Q3.13_NPS_GROUP")
    assert real_rows[0][g + 1] == "Q3.13"
    assert real_rows[1][g] == real_rows[1][g + 1] + " - Group"
    assert json.loads(real_rows[2][g]) == {"ImportId": "QID18_NPS_GROUP"}
    assert set(r[g] for r in real_rows[3:]) <= {"Promoter", "Passive", "Detractor", ""}

    _, content, _ = export(sandbox, "nps", useLabels=True)
    rows = rows_of(unzip(content)[1])
    g = rows[0].index("Q1_NPS_GROUP")
    assert rows[0][g + 1] == "Q1"
    assert rows[1][g] == rows[1][g + 1] + " - Group"
    assert json.loads(rows[2][g]) == {"ImportId": "QID1_NPS_GROUP"}
    assert set(r[g] for r in rows[3:]) == {"Promoter", "Passive", "Detractor", ""}
    assert "<" not in "".join(rows[1])  # question text row is plain text, HTML stripped


def test_csv_values_are_numbers_without_labels_and_labels_with(sandbox):
    _, plain, _ = export(sandbox, "csat")
    _, labelled, _ = export(sandbox, "csat", useLabels=True)
    numbers, words = frame_of(unzip(plain)[1]), frame_of(unzip(labelled)[1])
    assert set(numbers["Finished"]) == {"0", "1"} and set(words["Finished"]) == {"False", "True"}
    assert set(numbers["Status"]) == {"0"} and set(words["Status"]) == {"IP Address"}
    assert set(numbers["Q1"]) == {"1", "2", "3", "4", "5", "99", ""}  # N/A exported as its recode
    assert "N/A" in set(words["Q1"]) and "Very dissatisfied" in set(words["Q1"])
    assert (numbers["ResponseId"] == words["ResponseId"]).all()


def test_matrix_rows_text_and_embedded_data_columns(sandbox):
    _, content, _ = export(sandbox, "matrix")
    rows = rows_of(unzip(content)[1])
    assert rows[0][17:] == ["Q1_1", "Q1_2", "Q1_3", "Q1_4", "Q1_5", "Q2", "region", "channel"]
    assert [json.loads(c)["ImportId"] for c in rows[2][17:]] == [
        "QID1_1", "QID1_2", "QID1_3", "QID1_4", "QID1_5", "QID2_TEXT", "region", "channel"]
    assert rows[1][17].endswith(" - Discover") and rows[1][20].endswith(" - Billing")
    frame = frame_of(unzip(content)[1])
    assert (frame["region"] != "").all() and (frame["channel"] != "").all()
    answers = frame["Q2"][frame["Q2"] != ""]
    assert answers.value_counts().iloc[0] > 10  # recurring themes, not unique strings
    partial = frame[frame["Finished"] == "0"]
    assert len(partial) > 5 and (partial["Progress"].astype(int) < 100).all()
    assert (frame["Q1_4"] == "").any()  # blank answers exist


def test_question_metadata_and_embedded_selection(sandbox):
    _, content, _ = export(sandbox, "nps", questionIds=["QID1"], surveyMetadataIds=["recordedDate", "_recordId"],
                           embeddedDataIds=["region"])
    rows = rows_of(unzip(content)[1])
    assert rows[0] == ["RecordedDate", "ResponseId", "Q1_NPS_GROUP", "Q1", "region"]


def test_start_end_dates_and_limit_filter_rows(sandbox):
    anchor = sandbox.anchor
    start, end = anchor - dt.timedelta(days=30), anchor - dt.timedelta(days=10)
    _, content, _ = export(sandbox, "nps", startDate=start.isoformat().replace("+00:00", "Z"),
                           endDate=end.isoformat())
    frame = frame_of(unzip(content)[1])
    recorded = pd.to_datetime(frame["RecordedDate"], utc=True)
    assert len(frame) > 50
    assert recorded.min() >= start - dt.timedelta(seconds=1) and recorded.max() < end
    expected = sandbox.expected_answers("nps", "QID1")
    window = expected[(expected.recordedDate >= start) & (expected.recordedDate < end)]
    assert set(window.responseId) <= set(frame.ResponseId)
    _, limited, _ = export(sandbox, "nps", limit=15)
    assert len(frame_of(unzip(limited)[1])) == 15


def test_time_zone_shifts_csv_dates(sandbox):
    _, utc, _ = export(sandbox, "ces", limit=3, surveyMetadataIds=["recordedDate"])
    _, denver, _ = export(sandbox, "ces", limit=3, surveyMetadataIds=["recordedDate"], timeZone="America/Denver")
    a = pd.to_datetime(frame_of(unzip(utc)[1])["RecordedDate"])
    b = pd.to_datetime(frame_of(unzip(denver)[1])["RecordedDate"])
    assert set((a - b).dt.total_seconds() / 3600) <= {6.0, 7.0}


def test_uncompressed_export_is_the_raw_file(sandbox):
    _, content, headers = export(sandbox, "ces", compress=False, limit=4)
    assert headers["Content-Type"] == "text/csv"
    assert headers["Content-Disposition"].endswith(".csv")
    assert len(rows_of(content)) == 3 + 4


# ---------------------------------------------------------------- JSON / NDJSON


def test_json_export_records_have_the_real_record_shape(sandbox):
    _, content, headers = export(sandbox, "nps", format="json")
    member, raw = unzip(content)
    assert member == f"{sandbox.survey('nps').name}.json"
    records = json.loads(raw)["responses"]
    assert len(records) == sandbox.store.total(sandbox.survey("nps"))
    finished = next(r for r in records if r["values"]["finished"] == 1 and "QID1" in r["values"])
    assert set(finished) == {"responseId", "values", "labels", "displayedFields", "displayedValues"}
    values = finished["values"]
    for key in ("startDate", "endDate", "status", "ipAddress", "progress", "duration", "finished", "recordedDate",
                "_recordId", "locationLatitude", "locationLongitude", "distributionChannel", "userLanguage"):
        assert key in values
    assert isinstance(values["status"], int) and isinstance(values["progress"], int)
    assert isinstance(values["locationLatitude"], str)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", values["recordedDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", values["startDate"])
    assert values["_recordId"] == finished["responseId"]
    assert isinstance(values["QID1"], int)
    assert values["QID1_NPS_GROUP"] == (1 if values["QID1"] <= 6 else 2 if values["QID1"] <= 8 else 3)
    assert finished["labels"]["QID1_NPS_GROUP"] in ("Detractor", "Passive", "Promoter")
    assert finished["labels"]["finished"] == "True" and finished["labels"]["status"] == "IP Address"
    assert finished["displayedValues"]["QID1_NPS_GROUP"] == [1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 3]
    assert finished["displayedValues"]["QID1"] == list(range(11))
    assert {"QID1", "QID1_NPS_GROUP", "QID2_TEXT"} == set(finished["displayedFields"])
    blank = next(r for r in records if "QID1" not in r["values"])
    assert "QID1" not in blank["labels"]


def test_ndjson_export_is_one_record_per_line(sandbox):
    _, content, _ = export(sandbox, "csat", format="ndjson", compress=False)
    lines = content.decode().splitlines()
    assert len(lines) == sandbox.store.total(sandbox.survey("csat"))
    record = json.loads(lines[0])
    assert set(record) == {"responseId", "values", "labels", "displayedFields", "displayedValues"}
    na = [json.loads(line) for line in lines if '"QID1":99' in line]
    assert na and all(r["labels"]["QID1"] == "N/A" for r in na)


# ---------------------------------------------------------------- ground truth


@pytest.mark.parametrize("role, question, column", [
    ("nps", "QID1", "Q1"), ("nps", "QID1_NPS_GROUP", "Q1_NPS_GROUP"), ("csat", "QID1", "Q1"),
    ("ces", "QID1", "Q1"), ("matrix", "QID1_4", "Q1_4"), ("matrix", "QID2_TEXT", "Q2"),
])
def test_expected_answers_equal_what_the_export_contains(sandbox, role, question, column):
    _, content, _ = export(sandbox, role)
    frame = frame_of(unzip(content)[1])
    exported = frame.loc[frame[column] != "", ["ResponseId", "RecordedDate", column]]
    expected = sandbox.expected_answers(sandbox.survey_ids[role], question)
    assert list(expected.columns) == ["responseId", "recordedDate", "value"]
    assert list(expected.responseId) == list(exported.ResponseId)
    assert list(expected.value) == list(exported[column])
    assert list(expected.recordedDate.dt.strftime("%Y-%m-%d %H:%M:%S")) == list(exported.RecordedDate)


def test_known_scores_agree_with_scores_from_the_exported_files(sandbox):
    scores = sandbox.known_scores()
    nps = frame_of(unzip(export(sandbox, "nps")[1])[1])["Q1"]
    nps = nps[nps != ""].astype(int)
    assert scores["nps"] == pytest.approx(((nps >= 9).mean() - (nps <= 6).mean()) * 100)
    csat = frame_of(unzip(export(sandbox, "csat")[1])[1])["Q1"]
    csat = csat[(csat != "") & (csat != "99")].astype(int)
    assert scores["csat"] == pytest.approx(csat.mean())
    ces = frame_of(unzip(export(sandbox, "ces")[1])[1])["Q1"]
    ces = ces[ces != ""].astype(int)
    assert scores["ces"] == pytest.approx((ces >= 5).mean() * 100)
    assert scores["matrix:QID1_4"] < scores["matrix:QID1_1"]  # Billing is the sore spot of the journey


def test_nps_improves_over_the_six_months(sandbox):
    months = monthly_nps(sandbox)
    assert len(months) >= 6
    assert months.iloc[-1] - months.iloc[0] > 20
    assert (months.diff().dropna() > -8).all()  # a trend, not noise


# ---------------------------------------------------------------- continuation and live responses


def test_continuation_token_exports_only_responses_recorded_since(fresh_sandbox):
    sb = fresh_sandbox
    first, content, _ = export(sb, "nps", allowContinuation=True)
    token = first["continuationToken"]
    assert isinstance(token, str) and sb.survey_ids["nps"] not in token
    assert len(frame_of(unzip(content)[1])) == sb.survey("nps").responses

    second, content, _ = export(sb, "nps", continuationToken=token, allowContinuation=True)
    assert len(frame_of(unzip(content)[1])) == 0
    sb.add_responses("nps", 7)
    third, content, _ = export(sb, "nps", continuationToken=second["continuationToken"], allowContinuation=True)
    new = frame_of(unzip(content)[1])
    expected = sb.expected_answers("nps", "QID1")
    assert len(new) == 7
    assert set(expected.responseId.iloc[-7:]) >= set(new.ResponseId[new.Q1 != ""])
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    assert all(d.startswith(today) for d in new.RecordedDate)
    assert third["continuationToken"] != second["continuationToken"]


def test_continuation_token_of_another_survey_is_rejected(sandbox):
    result, _, _ = export(sandbox, "ces", allowContinuation=True, limit=1)
    url = f"{sandbox.base_url}/API/v3/surveys/{sandbox.survey_ids['csat']}/export-responses"
    response = api_session(sandbox).post(url, json={"format": "csv", "continuationToken": result["continuationToken"]})
    assert response.status_code == 400


def test_live_mode_keeps_adding_responses():
    sb = Sandbox(live=True, live_interval=0.05)
    sb.start()
    try:
        survey = sb.survey("nps")
        before = sb.store.total(survey)
        deadline = dt.datetime.now() + dt.timedelta(seconds=5)
        while sb.store.total(survey) < before + 3 and dt.datetime.now() < deadline:
            pass
        assert sb.store.total(survey) >= before + 3
        assert sb.expected_answers("nps", "QID1").recordedDate.max() > pd.Timestamp(sb.anchor)
    finally:
        sb.stop()


def test_live_responses_can_be_added_over_http(fresh_sandbox):
    response = api_session(fresh_sandbox).post(f"{fresh_sandbox.base_url}/_sandbox/live",
                                               headers=fresh_sandbox.control_headers(),
                                               json={"survey": "csat", "count": 4})
    assert response.json()["total"] == fresh_sandbox.survey("csat").responses + 4
