"""Bad export files never crash the parsers (issue 12: "Hypothesis-generated bad input for … the export parsers").

Whatever bytes a user points ``python -m workspace score`` at, and whatever a damaged download holds, the
export parsers either give a clean result or raise the QualtricsError family (ScoreFileError for ``score``),
whose ``str()`` is one sentence. Inputs: random bytes under every file name the parser sniffs, real-shaped
exports cut at any byte, zipped and cut, huge strings, deep nesting, odd Unicode (lone surrogates, RTL marks,
NUL, emoji) in every cell and in the header rows, and JSON of the wrong types. A failed sync download leaves
the stored answers and the continuation token exactly as they were.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualtrics.errors import QualtricsError
from qualtrics.exportfile import read_export_file
from workspace.score_file import ScoreFileError, score_export_file

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
NAMES = ["export.csv", "export.json", "export.ndjson", "export.zip", "download"]
ODD_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)) | st.sampled_from(
    ["\u202e", "\u200f", "\x00", "\ufeff", "🙂", "\ud7ff", "=", "\"", "'", "{", ",", ";", "\n", "\r"]),
    max_size=40) | st.sampled_from(["{'ImportId': 'QID1'}", '{"ImportId":"recordedDate","timeZone":"GMT+99"}',
                                    "1/21/2021 10:55", "2020-13-45 25:61:00", "GMT-05:00", "Z", "Etc/GMT+1"])


def csv_export(answers: list[str], zone: str = "America/Denver", cell: str = "5") -> bytes:
    """A values export in the API's three-row CSV layout, as the real recorded zips hold."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["StartDate", "RecordedDate", "ResponseId", "Finished", "Q1", "Q2"])
    writer.writerow(["Start Date", "Recorded Date", "Response ID", "Finished", "How satisfied?", "Why?"])
    writer.writerow(['{"ImportId":"startDate","timeZone":"%s"}' % zone, '{"ImportId":"recordedDate","timeZone":"%s"}'
                     % zone, '{"ImportId":"_recordId"}', '{"ImportId":"finished"}', '{"ImportId":"QID1"}',
                     '{"ImportId":"QID2_TEXT"}'])
    for i, answer in enumerate(answers):
        writer.writerow(["2024-05-01 09:00:00", "2024-05-01 09:02:00", f"R_{i:015d}", "1", answer or cell, "fine"])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_export(records: list[dict], ndjson: bool = False) -> bytes:
    if ndjson:
        return "\n".join(json.dumps(r) for r in records).encode()
    return json.dumps({"responses": records}).encode()


def record(i: int, value: object) -> dict:
    return {"responseId": f"R_{i:015d}", "values": {"recordedDate": "2024-07-08T16:00:23.994Z", "finished": 1,
                                                    "QID1": value}, "labels": {"QID1": "Satisfied"}}


def zipped(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


def read_or_refuse(path: Path, question_ids: list[str] | None = None) -> int | str:
    """Rows read, or the refusal sentence; anything else escaping is the bug these tests look for."""
    try:
        return sum(len(b) for b in read_export_file(path, question_ids, require_dates=False))
    except QualtricsError as exc:
        message = str(exc)
        assert message and "\n" not in message and "Traceback" not in message
        return message


def score_or_refuse(path: Path) -> float | None | str:
    try:
        return score_export_file(path, "csat", "QID1").score.value
    except (ScoreFileError, QualtricsError) as exc:
        assert str(exc) and "\n" not in str(exc)
        return str(exc)


@FUZZ
@given(content=st.binary(max_size=3000), name=st.sampled_from(NAMES))
def test_random_bytes_under_any_name_are_read_or_refused_in_one_sentence(tmp_path_factory, content, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(content)
    read_or_refuse(path)
    score_or_refuse(path)


@FUZZ
@given(data=st.data(), form=st.sampled_from(["csv", "json", "ndjson", "csv.zip", "json.zip"]))
def test_a_real_shaped_export_cut_at_any_byte_is_read_or_refused(tmp_path_factory, data, form):
    answers = ["5", "4", "", "1", "3"] * 4
    if form.startswith("csv"):
        content = csv_export(answers)
    else:
        content = json_export([record(i, int(a) if a else None) for i, a in enumerate(answers)],
                              ndjson=form == "ndjson")
    if form.endswith(".zip"):
        content = zipped(f"Survey.{form.split('.')[0]}", content)
    cut = data.draw(st.integers(min_value=0, max_value=len(content) - 1))
    path = tmp_path_factory.mktemp("cut") / f"export.{form.rsplit('.', 1)[-1]}"
    path.write_bytes(content[:cut])
    outcome = read_or_refuse(path, ["QID1"])
    if isinstance(outcome, int):
        assert outcome <= len(answers)
    score_or_refuse(path)


@FUZZ
@given(cells=st.lists(ODD_TEXT, min_size=1, max_size=6), zone=ODD_TEXT, row=st.integers(0, 2))
def test_odd_unicode_in_cells_header_rows_and_time_zones_never_crashes(tmp_path_factory, cells, zone, row):
    content = csv_export(cells, zone=zone.replace('"', "").replace("\\", ""))
    lines = content.decode("utf-8").splitlines(keepends=True)
    if row < 3:  # damage a header row too: the export tags, the texts, or the ImportIds
        lines[row] = lines[row].rstrip("\r\n") + "," + json.dumps(cells[0]) + "\r\n"
    path = tmp_path_factory.mktemp("odd") / "export.csv"
    path.write_bytes("".join(lines).encode("utf-8", "surrogatepass"))
    read_or_refuse(path, ["QID1"])
    score_or_refuse(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-10**30, 10**30) | st.floats(allow_nan=True) | ODD_TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ODD_TEXT, inner, max_size=4), max_leaves=12)


@FUZZ
@given(value=JSON_VALUES, where=st.sampled_from(["answer", "values", "record", "responses", "labels", "date"]),
       ndjson=st.booleans())
def test_json_of_the_wrong_types_anywhere_is_read_or_refused(tmp_path_factory, value, where, ndjson):
    records = [record(0, 5), record(1, 3)]
    if where == "answer":
        records[1]["values"]["QID1"] = value
    elif where == "values":
        records[1]["values"] = value
    elif where == "labels":
        records[1]["labels"] = value
    elif where == "date":
        records[1]["values"]["recordedDate"] = value
    elif where == "record":
        records[1] = value
    content = json.dumps({"responses": value} if where == "responses" else {"responses": records}) if not ndjson \
        else "\n".join(json.dumps(r) for r in ([value] if where == "responses" else records))
    path = tmp_path_factory.mktemp("types") / ("export.ndjson" if ndjson else "export.json")
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    read_or_refuse(path, ["QID1"])
    score_or_refuse(path)


@pytest.mark.parametrize("name, content", [
    pytest.param("deep.json", b'{"responses":[' + b"[" * 200_000 + b"]" * 200_000 + b"]}", id="json_200k_deep"),
    pytest.param("deep.ndjson", b'{"values":' + b"[" * 200_000 + b"]" * 200_000 + b"}\n", id="ndjson_200k_deep"),
    pytest.param("huge.json", json_export([{**record(0, 5), "values": {**record(0, 5)["values"],
                 "QID1": "x" * 5_000_000}}]), id="json_5MB_answer"),
    pytest.param("huge.csv", csv_export(["y" * 5_000_000]), id="csv_5MB_cell"),
    pytest.param("surrogate.json", b'{"responses":[{"responseId":"\\ud800","values":{"QID1":"\\udfff",'
                 b'"recordedDate":"\\ud800"}}]}', id="json_lone_surrogates"),
    pytest.param("bigint.json", b'{"responses":[{"responseId":"R_1","values":{"QID1":' + b"9" * 5000 + b"}}]}",
                 id="json_5000_digit_integer"),
    pytest.param("ids.csv", b"a,b\nc,d\n{'ImportId': " + b"[" * 5000 + b"]}," + b"x\n", id="repr_import_id_deep"),
    pytest.param("bomb.zip", zipped("export.csv", b"\0" * 20_000_000), id="zip_of_20MB_nul_bytes"),
])
def test_extreme_inputs_are_read_or_refused_in_one_sentence(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    read_or_refuse(path, ["QID1"])
    score_or_refuse(path)


def test_a_sync_whose_downloads_arrive_damaged_writes_nothing_and_keeps_its_token(tmp_path, fresh_sandbox):
    """Two damaged downloads in a row (the client retries once): the run fails with one sentence, and the
    answers and continuation token are exactly those of the last good sync; the next sync catches up."""
    from workspace import answers, catalog, metrics, runs
    from workspace.connection import open_client
    from workspace.sync import sync_survey
    from tests.test_workspace_support import assert_stored_equals_truth, settings_for

    s = settings_for(tmp_path, fresh_sandbox)
    with open_client(s) as client:
        catalog.refresh_questions(s, client, fresh_sandbox.survey_ids["csat"])
    m = metrics.create_metric(s, fresh_sandbox.survey_ids["csat"], "QID1", "csat")
    assert sync_survey(s, m.survey_id).ok
    before = answers.stored_answers(s, m.survey_id, "QID1")
    token = runs.survey_state(s, m.survey_id).continuation_token
    fresh_sandbox.add_responses("csat", 60)
    fresh_sandbox.faults.corrupt_zip_next = 2
    failed = sync_survey(s, m.survey_id)
    assert failed.status == "failed" and "damaged" in failed.message and "\n" not in failed.message
    after = answers.stored_answers(s, m.survey_id, "QID1")
    assert after.equals(before) and runs.survey_state(s, m.survey_id).continuation_token == token
    assert sync_survey(s, m.survey_id).ok
    assert_stored_equals_truth(s, fresh_sandbox, m.survey_id, "QID1")
