"""Export files -> ResponseBatch frames, on the real recorded export zips (and JSON/NDJSON built from them)."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

import qualtrics.exportfile as exportfile
from qualtrics.errors import CorruptExport, QualtricsError
from qualtrics.exportfile import read_export_file
from tests.sandbox_fixtures import REAL_FIXTURES as REAL, needs_shared

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)

BESKAR_ZIP = REAL / "export_file_beskar_csat_csv.zip"
CATS_ZIP = REAL / "export_file_cats_nps_csv.zip"
ONE_QID_ZIP = REAL / "export_file_beskar_one_qid_limit15_csv.zip"


def csv_rows(zip_path: Path) -> list[dict[str, str]]:
    """Oracle independent of pandas: the stdlib csv module, keyed by ImportId, times converted with zoneinfo."""
    with zipfile.ZipFile(zip_path) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    meta = [json.loads(cell) for cell in rows[2]]
    keys = [m["ImportId"] + (f"_{m['choiceId']}" if "choiceId" in m else "") for m in meta]
    tz = ZoneInfo(next(m["timeZone"] for m in meta if m["ImportId"] == "recordedDate"))
    out = []
    for row in rows[3:]:
        record = dict(zip(keys, row))
        local = datetime.strptime(record["recordedDate"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz)
        record["recordedDate"] = local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")
        out.append(record)
    return out


def as_list(series: pd.Series) -> list:
    """Values with every missing marker (NaN, NA) as None, for comparison with plain lists."""
    return [None if pd.isna(v) else v for v in series.tolist()]


def read_all(path, question_ids=None, **kwargs) -> pd.DataFrame:
    batches = list(read_export_file(path, question_ids, **kwargs))
    return pd.concat([b.frame for b in batches], ignore_index=True)


@needs_shared
def test_beskar_csat_zip_parses_to_the_rows_of_the_file():
    frame = read_all(BESKAR_ZIP, ["QID16", "QID63"], embedded_data=["SolutionRevision"])
    expected = csv_rows(BESKAR_ZIP)
    assert list(frame.columns) == ["responseId", "recordedDate", "finished", "QID16", "QID63", "SolutionRevision"]
    assert len(frame) == len(expected) == 44
    assert frame["responseId"].tolist() == [r["_recordId"] for r in expected]
    assert frame["recordedDate"].tolist() == [r["recordedDate"] for r in expected]
    assert as_list(frame["QID16"]) == [r["QID16"] or None for r in expected]
    assert frame["finished"].tolist() == [r["finished"] == "True" for r in expected]
    # spot check against the file as Qualtrics wrote it (labels export, America/Denver times)
    first = frame.iloc[0]
    assert (first.responseId, first.recordedDate, first.QID16, first.QID63) == (
        "R_A7l3qPgjI2gQ6vT", "2020-02-20T01:17:20Z", "Somewhat satisfied", "monthly")


@needs_shared
def test_cats_nps_zip_gives_the_0_to_10_answers_as_strings():
    frame = read_all(CATS_ZIP, ["QID18"])
    expected = csv_rows(CATS_ZIP)
    assert len(frame) == 45
    assert as_list(frame["QID18"]) == [r["QID18"] or None for r in expected]
    assert frame.loc[0, ["responseId", "QID18"]].tolist() == ["R_1hMCpoT7s2jVxQB", "9"]
    assert set(frame["QID18"].dropna()) <= {str(v) for v in range(11)}


@needs_shared
def test_only_the_requested_columns_are_returned_and_batches_are_bounded():
    batches = list(read_export_file(CATS_ZIP, ["QID18"], batch_rows=10))
    assert [len(b) for b in batches] == [10, 10, 10, 10, 5]
    assert all(list(b.frame.columns) == ["responseId", "recordedDate", "finished", "QID18"] for b in batches)


@needs_shared
def test_without_question_ids_every_single_value_answer_column_is_read():
    frame = read_all(ONE_QID_ZIP)
    assert list(frame.columns) == ["responseId", "recordedDate", "finished", "QID17"]
    assert len(frame) == 15


@needs_shared
def test_export_tags_are_accepted_as_column_names_too():
    by_tag = read_all(CATS_ZIP, ["Q3.13"])
    by_id = read_all(CATS_ZIP, ["QID18"])
    assert as_list(by_tag["Q3.13"]) == as_list(by_id["QID18"])


@needs_shared
def test_a_values_export_without_time_zone_is_read_as_utc():
    frame = read_all(REAL / "sample.csv")
    assert frame.loc[0, ["responseId", "recordedDate", "finished", "QID1"]].tolist() == [
        "R_2YPOQ602ER1jkf1", "2017-07-18T08:28:48Z", True, "2"]


@needs_shared
def test_a_question_absent_from_the_csv_is_named_in_the_error():
    with pytest.raises(QualtricsError, match="QID99"):
        list(read_export_file(CATS_ZIP, ["QID99"]))


@needs_shared
def test_the_legacy_csv_layout_is_refused_with_advice():
    with pytest.raises(QualtricsError, match="three header rows|ImportIds"):
        list(read_export_file(REAL / "sample_legacy.csv"))


@needs_shared
def test_a_truncated_zip_is_a_corrupt_export(tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(BESKAR_ZIP.read_bytes()[:-200])
    with pytest.raises(CorruptExport):
        list(read_export_file(broken, ["QID16"]))


def _json_records(zip_path: Path) -> list[dict]:
    """The real rows in the JSON export shape (values are numbers where Qualtrics writes numbers)."""
    records = []
    for row in csv_rows(zip_path):
        values = {k: v for k, v in row.items() if v != ""}
        values["recordedDate"] = row["recordedDate"].replace("Z", ".123Z")
        values["finished"] = 1 if row.get("finished") == "True" else 0
        if "QID18" in values:
            values["QID18"] = int(values["QID18"])
        records.append({"responseId": row["_recordId"], "values": values, "labels": {}, "displayedFields": []})
    return records


@needs_shared
@pytest.mark.parametrize("zipped", [False, True])
@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_json_and_ndjson_exports_give_the_same_frame_as_the_csv(tmp_path, monkeypatch, fmt, zipped):
    monkeypatch.setattr(exportfile, "_READ_SIZE", 512)  # force records to straddle buffer boundaries
    records = _json_records(CATS_ZIP)
    if fmt == "json":
        content = json.dumps({"responses": records}, indent=1)
    else:
        content = "\n".join(json.dumps(r) for r in records) + "\n"
    raw = tmp_path / f"Cats.{fmt}"
    raw.write_text(content)
    path = raw
    if zipped:
        path = tmp_path / "export.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(raw, raw.name)
    from_json = read_all(path, ["QID18"], batch_rows=7)
    from_csv = read_all(CATS_ZIP, ["QID18"])
    pd.testing.assert_frame_equal(from_json, from_csv, check_dtype=False)


@needs_shared
def test_format_is_sniffed_when_the_file_name_has_no_extension(tmp_path):
    records = _json_records(CATS_ZIP)
    nameless = tmp_path / "download"
    nameless.write_text(json.dumps({"responses": records}))
    assert len(read_all(nameless, ["QID18"])) == 45


@needs_shared
def test_a_json_export_cut_short_is_a_corrupt_export(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps({"responses": _json_records(CATS_ZIP)})[:-500])
    with pytest.raises(CorruptExport):
        list(read_export_file(path, ["QID18"]))


@needs_shared
def test_progress_reports_the_parse_stage_up_to_one(tmp_path):
    seen: list[tuple[str, float]] = []
    list(read_export_file(BESKAR_ZIP, ["QID16"], progress=lambda stage, f: seen.append((stage, f))))
    assert {stage for stage, _ in seen} == {"parse"}
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


@needs_shared
def test_json_without_question_ids_discovers_the_same_answer_columns_as_the_csv(tmp_path, monkeypatch):
    monkeypatch.setattr(exportfile, "_READ_SIZE", 512)
    path = tmp_path / "Cats.ndjson"
    path.write_text("\n".join(json.dumps(r) for r in _json_records(CATS_ZIP)))
    from_json = read_all(path, batch_rows=10)
    from_csv = read_all(CATS_ZIP)
    assert "QID18" in from_csv.columns and "QID36_7" in from_csv.columns
    pd.testing.assert_frame_equal(from_json, from_csv[from_json.columns], check_dtype=False)
    assert set(from_csv.columns) - set(from_json.columns) == {
        c for c in from_csv.columns if from_csv[c].isna().all()}


@needs_shared
def test_a_csv_with_only_its_header_rows_has_no_batches(tmp_path):
    with zipfile.ZipFile(CATS_ZIP) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    headers_only = tmp_path / "empty.csv"
    headers_only.write_text("".join(text.splitlines(keepends=True)[:3]))
    assert list(read_export_file(headers_only, ["QID18"])) == []


@needs_shared
def test_local_times_are_converted_to_utc_across_daylight_saving_changes(tmp_path):
    with zipfile.ZipFile(BESKAR_ZIP) as archive:
        rows = list(csv.reader(io.StringIO(archive.read(archive.namelist()[0]).decode("utf-8-sig"))))
    rows = rows[:5]
    rows[3][7] = "2020-11-01 01:30:00"  # America/Denver: happens twice; read as MDT (UTC-6)
    rows[4][7] = "2020-07-01 12:00:00"  # summer: MDT
    path = tmp_path / "dst.csv"
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    frame = read_all(path, ["QID16"])
    assert frame["recordedDate"].tolist() == ["2020-11-01T07:30:00Z", "2020-07-01T18:00:00Z"]


# --- exports as users really have them (issue 9): written here in the shapes of the corpus files ----------

def _api_csv(path: Path, dates: list[str], zone: str | None = "America/New_York", answers: list[str] | None = None,
             repr_ids: bool = False, recorded: bool = True) -> Path:
    """An export in the API's three-row layout (or the Insights layout with Python-repr ImportIds)."""
    meta = [{"ImportId": "startDate"}, {"ImportId": "_recordId" if not repr_ids else "responseId"},
            {"ImportId": "QID7-1" if repr_ids else "QID7_1"}]
    names = ["StartDate", "ResponseId", "Q7_1"]
    if recorded:
        meta.insert(1, {"ImportId": "recordedDate", **({"timeZone": zone} if zone is not None else {})})
        names.insert(1, "RecordedDate")
    cells = [repr(m) if repr_ids else json.dumps(m) for m in meta]
    answers = answers or ["3"] * len(dates)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerows([names, names, cells])
        for i, (date, answer) in enumerate(zip(dates, answers)):
            row = [date, f"R_{i:015d}", answer]
            if recorded:
                row.insert(1, date)
            writer.writerow(row)
    return path


@pytest.mark.parametrize("zone, local, utc", [
    pytest.param("Z", "2020-12-27 10:00:00", "2020-12-27T10:00:00Z", id="Z_as_the_api_writes_without_timeZone"),
    pytest.param("UTC", "2020-12-27 10:00:00", "2020-12-27T10:00:00Z", id="UTC"),
    pytest.param(None, "2020-12-27 10:00:00", "2020-12-27T10:00:00Z", id="no_timeZone"),
    pytest.param("GMT+1", "2020-12-27 10:00:00", "2020-12-27T09:00:00Z", id="GMT_plus_1"),
    pytest.param("GMT-05:00", "2020-12-27 10:00:00", "2020-12-27T15:00:00Z", id="GMT_minus_05_00"),
    pytest.param("UTC+05:30", "2020-12-27 10:00:00", "2020-12-27T04:30:00Z", id="UTC_plus_05_30"),
    pytest.param("Europe/Paris", "2020-07-01 10:00:00", "2020-07-01T08:00:00Z", id="IANA_summer_time"),
])
def test_every_time_zone_qualtrics_writes_is_converted_to_utc(tmp_path, zone, local, utc):
    frame = read_all(_api_csv(tmp_path / "tz.csv", [local], zone), ["QID7_1"])
    assert frame["recordedDate"].tolist() == [utc]


def test_an_unknown_time_zone_is_named_in_one_sentence(tmp_path):
    with pytest.raises(QualtricsError, match="'Mars/Olympus_Mons' is not one Journey Pulse knows"):
        read_all(_api_csv(tmp_path / "tz.csv", ["2020-12-27 10:00:00"], "Mars/Olympus_Mons"))


def test_insights_csv_with_python_repr_import_ids_reads_matrix_rows_by_their_api_ids(tmp_path):
    path = _api_csv(tmp_path / "insights.csv", ["2021-01-21 10:55:36"] * 2, repr_ids=True, recorded=False,
                    answers=["4", ""])
    frame = read_all(path, require_dates=False)
    assert list(frame.columns) == ["responseId", "recordedDate", "finished", "QID7_1"]
    assert frame["QID7_1"].tolist()[0] == "4" and pd.isna(frame["QID7_1"].tolist()[1])
    assert frame["recordedDate"].isna().all()


def test_an_export_without_recorded_date_is_refused_for_syncing_but_read_for_scoring(tmp_path):
    path = _api_csv(tmp_path / "no_date.csv", ["2017-01-20 19:38:13"], recorded=False)
    with pytest.raises(QualtricsError, match="no recordedDate column"):
        read_all(path)
    assert read_all(path, require_dates=False)["recordedDate"].isna().all()


def test_dates_rewritten_by_excel_are_parsed_in_the_exports_time_zone(tmp_path):
    frame = read_all(_api_csv(tmp_path / "excel.csv", ["1/21/2021 10:55", "1/23/2021 9:05", ""]), ["QID7_1"])
    assert frame["recordedDate"].tolist()[:2] == ["2021-01-21T15:55:00Z", "2021-01-23T14:05:00Z"]
    blank = frame["recordedDate"].tolist()[2]
    assert not isinstance(blank, str) and pd.isna(blank)  # blank stays missing, never the text "NaT"


def test_a_date_in_no_known_form_is_named_never_a_silent_nan(tmp_path):
    with pytest.raises(QualtricsError, match="'next Tuesday'"):
        read_all(_api_csv(tmp_path / "odd.csv", ["2021-01-21 10:55:36", "next Tuesday"]))


def test_a_semicolon_separated_csv_gets_a_sentence_naming_the_problem(tmp_path):
    path = tmp_path / "excel_eu.csv"
    path.write_text('StartDate;RecordedDate;ResponseId;Q1\nStart Date;Recorded Date;Response ID;How?\n'
                    '{"ImportId":"startDate"};{"ImportId":"recordedDate"};{"ImportId":"_recordId"};'
                    '{"ImportId":"QID1"}\n', encoding="utf-8")
    with pytest.raises(QualtricsError, match="separated by semicolons"):
        read_all(path)


def test_the_legacy_two_row_layout_is_refused_naming_what_to_download_instead(tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_text("V1,V2,V3,V4,V5,V6,V7,V8,V9,V10,Q1\nResponseID,ResponseSet,Name,x,y,z,Status,StartDate,"
                    "EndDate,Finished,How?\nR_1,Default,Anonymous,,,,0,2017-07-18 08:28:09,2017-07-18 08:28:48,1,2\n")
    with pytest.raises(QualtricsError, match="legacy Qualtrics export.*'Use legacy exporter' off"):
        read_all(path)


def test_a_csv_re_saved_in_another_encoding_says_so(tmp_path):
    path = _api_csv(tmp_path / "latin1.csv", ["2021-01-21 10:55:36"], answers=["Très satisfait"])
    path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1"))
    with pytest.raises(CorruptExport, match="not UTF-8"):
        read_all(path)


def test_json_export_labels_are_returned_per_value_and_a_csv_has_none(tmp_path):
    records = [{"responseId": f"R_{i}", "values": {"recordedDate": "2024-07-08T16:00:23.994Z", "QID1": v},
                "labels": {"QID1": label}} for i, (v, label) in enumerate([(5, "<b>Very</b> easy"), (6, "N/A")])]
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"responses": records}))
    assert exportfile.answer_labels(path, ["QID1", "QID2"]) == {"QID1": {"5": "<b>Very</b> easy", "6": "N/A"}}
    assert exportfile.answer_labels(_api_csv(tmp_path / "x.csv", ["2021-01-21 10:55:36"]), ["QID7_1"]) == {}


def test_a_json_export_without_recorded_date_is_refused_for_syncing_but_read_for_scoring(tmp_path):
    path = tmp_path / "export.ndjson"
    path.write_text(json.dumps({"responseId": "R_1", "values": {"QID1": 4}}) + "\n")
    with pytest.raises(QualtricsError, match="without recordedDate"):
        read_all(path, ["QID1"])
    assert read_all(path, ["QID1"], require_dates=False)["QID1"].tolist() == ["4"]
