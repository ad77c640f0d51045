"""Responses are numbered in export order, and answers, comments and segment values are keyed by the number
(migration 0004): a first export appends to the B-trees, a repeated response keeps its number, and a store
from before the numbers keeps every row through the upgrade. On both engines."""

from __future__ import annotations

import pandas as pd

from qualtrics.models import Choice, OpenTextQuestion, Question, Scale
from tests.test_workspace_support import settings_for
from workspace import answers, catalog, metrics, scores, store
from workspace.store import Location
from workspace.store.migrate import MIGRATIONS_DIR

SURVEY = "SV_3qIYYGdKjmKmgO9"  # a corpus survey id's shape; the rows below are the client's batch frame


def batch(rows: list[tuple]) -> pd.DataFrame:
    """rows of (responseId, recordedDate, finished, QID1 0-10, QID4_TEXT, region), as an export batch."""
    return pd.DataFrame(rows, columns=["responseId", "recordedDate", "finished", "QID1", "QID4_TEXT", "region"])


def write(settings, frame: pd.DataFrame) -> answers.Written:
    with store.connect(settings.store) as db, store.transaction(db):
        return answers.write_batch(db, SURVEY, frame, ["QID1"], {}, ["region"], ["QID4_TEXT"])


def numbers(settings) -> list[tuple[str, int]]:
    with store.connect(settings.store) as db:
        return db.execute("SELECT response_id, id FROM responses WHERE survey_id = ? ORDER BY id",
                          (SURVEY,)).fetchall()


def test_responses_are_numbered_in_export_order_and_keep_their_number_when_exported_again(tmp_path):
    settings = settings_for(tmp_path)
    first = batch([("R_3kq2Xw0", "2026-03-01T09:00:00Z", True, "10", "Quick", "EMEA"),
                   ("R_0aZr9Pd", "2026-03-01T09:05:00Z", True, "3", None, "APAC"),
                   ("R_9bYc1Qe", "2026-03-01T09:07:00Z", False, "7", "Slow login", None)])
    assert write(settings, first) == answers.Written(answers=3, comments=2)
    numbered = numbers(settings)
    assert [r for r, _ in numbered] == ["R_3kq2Xw0", "R_0aZr9Pd", "R_9bYc1Qe"], "export order, not id order"

    # A re-export after a crash brings two known responses again (one changed its answer) and a new one.
    again = batch([("R_9bYc1Qe", "2026-03-01T09:07:00Z", True, "8", "Slow login", None),
                   ("R_7mNp2Rf", "2026-03-02T10:00:00Z", True, "9", None, "EMEA"),
                   ("R_3kq2Xw0", "2026-03-01T09:00:00Z", True, "10", "Quick", "EMEA")])
    write(settings, again)
    assert numbers(settings)[:3] == numbered and numbers(settings)[3][0] == "R_7mNp2Rf"
    stored = answers.stored_answers(settings, SURVEY, "QID1")
    assert sorted(zip(stored["responseId"], stored["value"])) == [
        ("R_0aZr9Pd", "3"), ("R_3kq2Xw0", "10"), ("R_7mNp2Rf", "9"), ("R_9bYc1Qe", "8")]
    with store.connect(settings.store) as db:
        assert db.execute("SELECT count(*) FROM comments").fetchone()[0] == 2
        assert db.execute("SELECT count(*) FROM response_segments").fetchone()[0] == 3


def test_the_same_response_id_in_two_surveys_is_two_responses(tmp_path):
    settings = settings_for(tmp_path)
    write(settings, batch([("R_3kq2Xw0", "2026-03-01T09:00:00Z", True, "10", None, None)]))
    with store.connect(settings.store) as db, store.transaction(db):
        answers.write_batch(db, "SV_other", batch([("R_3kq2Xw0", "2026-03-01T09:00:00Z", True, "0", None, None)]),
                            ["QID1"], {})
    assert answers.stored_answers(settings, SURVEY, "QID1")["value"].tolist() == ["10"]
    assert answers.stored_answers(settings, "SV_other", "QID1")["value"].tolist() == ["0"]


def _alembic(location: Location, verb: str, revision: str) -> None:
    """Run Alembic's ``upgrade``/``downgrade`` on the store (the app itself only ever upgrades to head)."""
    import sqlalchemy
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = sqlalchemy.create_engine(location.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)
    finally:
        engine.dispose()


def test_a_store_from_before_response_numbers_keeps_every_answer_comment_and_segment(tmp_path):
    settings = settings_for(tmp_path)
    nps = Question(id="QID1", export_tag="Q1", text="How likely are you to recommend us?", type="MC",
                   selector="NPS", choices=tuple(Choice(str(i), str(i), float(i)) for i in range(11)),
                   scale=Scale("0-10", 0.0, 10.0), suggested_type="nps")
    catalog.store_questions(settings, SURVEY, [nps])
    metric = metrics.create_metric(settings, SURVEY, "QID1", "nps")
    location = settings.store
    _alembic(location, "downgrade", "0003")
    # Still marked migrated in this process, so this connection writes into the 0003 schema as it is.
    with store.connect(location) as db, store.transaction(db):  # what 0003's sync stored, by Qualtrics' id
        db.executemany("INSERT INTO answers (survey_id, question_id, response_id, value, label, recorded_date, "
                       "finished) VALUES (?, 'QID1', ?, ?, ?, ?, 1)",
                       [(SURVEY, "R_b", "9", "9", "2026-03-02T00:00:00Z"), (SURVEY, "R_a", "10", "10", None),
                        (SURVEY, "R_c", "2", "2", "2026-03-01T00:00:00Z")])
        db.execute("INSERT INTO comments (survey_id, question_id, response_id, text, recorded_date) "
                   "VALUES (?, 'QID4_TEXT', 'R_c', 'Slow login', '2026-03-01T00:00:00Z')", (SURVEY,))
        db.execute("INSERT INTO response_segments (survey_id, response_id, field, value) "
                   "VALUES (?, 'R_b', 'region', 'EMEA')", (SURVEY,))
    store.forget_migrated(location)
    assert store.migrate(location) == ["0004"]

    assert [r for r, _ in numbers(settings)] == ["R_c", "R_b", "R_a"], "numbered as recorded, undated last"
    stored = answers.stored_answers(settings, SURVEY, "QID1")
    assert sorted(zip(stored["responseId"], stored["value"])) == [("R_a", "10"), ("R_b", "9"), ("R_c", "2")]
    audit = scores.responses(settings, metric.id)
    assert dict(zip(audit["response_id"], audit["region"].fillna(""))) == {"R_a": "", "R_b": "EMEA", "R_c": ""}
    with store.connect(location) as db:
        assert db.execute("SELECT r.response_id, c.text FROM comments c JOIN responses r ON r.id = c.response"
                          ).fetchall() == [("R_c", "Slow login")]


def test_the_newest_comments_are_the_latest_recorded_across_questions_and_surveys(tmp_path):
    settings = settings_for(tmp_path)
    for survey_id in (SURVEY, "SV_other"):
        catalog.store_definition(settings, survey_id, [
            OpenTextQuestion("QID4_TEXT", "QID4", "Q4", "What could we do better?"),
            OpenTextQuestion("QID5_TEXT", "QID5", "Q5", "Anything else?")], [])
    wide = ["responseId", "recordedDate", "finished", "QID4_TEXT", "QID5_TEXT"]

    def store_comments(survey_id: str, rows: list[tuple]) -> None:
        with store.connect(settings.store) as db, store.transaction(db):
            answers.write_batch(db, survey_id, pd.DataFrame(rows, columns=wide), [], {},
                                comment_ids=["QID4_TEXT", "QID5_TEXT"])

    # The survey synced last is not the one answered last: the merge goes by recorded date, not by arrival.
    store_comments(SURVEY, [("R_1", "2026-03-01T09:00:00Z", True, "Slow login", "Nice staff"),
                            ("R_2", "2026-03-03T10:00:00Z", True, None, "Long queue")])
    store_comments("SV_other", [("R_3", "2026-03-02T08:00:00Z", True, "Clear bill", None),
                                ("R_4", None, True, "Undated", None)])
    store_comments(SURVEY, [("R_5", "2026-03-04T09:00:00Z", True, "Pushed now", None)])

    with store.connect(settings.store) as db:
        newest = answers.newest_comments(db, None, 3)
        assert [(c.response_id, c.text) for c in newest] == [
            ("R_5", "Pushed now"), ("R_2", "Long queue"), ("R_3", "Clear bill")]
        assert [c.text for c in answers.newest_comments(db, [SURVEY], 10)] == [
            "Pushed now", "Long queue", "Nice staff", "Slow login"]
        assert [c.text for c in answers.newest_comments(db, ["SV_other"], 10)] == ["Clear bill", "Undated"]
        assert answers.newest_comments(db, [], 10) == [] and answers.newest_comments(db, None, 0) == []
