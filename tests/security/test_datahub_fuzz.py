"""Issue 12 findings 4 and 6, and generated bad input: no Data Hub body answers 5xx or writes in part.

Poison pushes used to answer 500 (lone surrogates, 100k-deep nesting, a 5,000-digit integer), which
Qualtrics retries for ever, and a duplicate key let one respondent's piped text overwrite another's
record. Each named case is pinned below; Hypothesis then throws generated bodies at app.py's handler
(through Starlette's TestClient, so the JSON answer is rendered too) and checks the store after each.
"""

from __future__ import annotations

import json
from urllib.parse import quote_from_bytes, urlencode

import pytest
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st
from starlette.testclient import TestClient

from tests.test_datahub import client, key  # noqa: F401
from tests.test_pages import settings  # noqa: F401
from workspace.config import Settings
from workspace.datahub import endpoint
from workspace.store import connect

PATH = endpoint.ENDPOINT_PATH
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def snapshot(settings: Settings) -> tuple:  # noqa: F811
    with connect(settings.store) as db:
        sources = db.execute("SELECT survey_id, response_id, step, fields, deliveries FROM datahub_sources "
                                  "ORDER BY id").fetchall()
        texts = db.execute("SELECT source_id, field, text, length FROM datahub_texts "
                                "ORDER BY source_id, field").fetchall()
    return tuple(sources), tuple(texts)


def post(client: TestClient, key: str, content: bytes, content_type: str = JSON):
    return client.post(PATH, content=content, headers={"X-API-KEY": key, "Content-Type": content_type})


def valid(**extra: object) -> dict:
    return {"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": "R_fuzz0000000001", "Comment": "Billing was slow.",
            **extra}


POISON = {
    "lone surrogate in a value": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "Comment": "hi \\ud800"}', JSON),
    "lone surrogate in a name": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "C\\udfff": "hi"}', JSON),
    "lone surrogate in an id": (b'{"SurveyID": "SV_a1", "ResponseID": "R_\\ud800"}', JSON),
    "lone surrogate in Step": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "Step": "\\udbff"}', JSON),
    "100k-deep nesting": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "x": ' + b"[" * 100_000
                          + b"]" * 100_000 + b"}", JSON),
    "100k-deep objects": (b'{"a": ' * 100_000 + b"1" + b"}" * 100_000, JSON),
    "5,000-digit integer": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "n": ' + b"9" * 5_000 + b"}", JSON),
    "5,000-digit float": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "n": 1.' + b"9" * 5_000 + b"}", JSON),
    "NaN": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "n": NaN}', JSON),
    "invalid UTF-8": (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "Comment": "\xff\xfe"}', JSON),
    "invalid UTF-8 in a form": (b"SurveyID=SV_a1&ResponseID=R_a1&Comment=%FF%FE", FORM),
    "a number as the body": (b"42", JSON),
    "a list of objects": (json.dumps([valid()]).encode(), JSON),
    "a nested list of objects": (json.dumps(valid(Comment=[{"a": 1}])).encode(), JSON),
    "two levels of objects": (json.dumps(valid(EmbeddedData={"a": {"b": 1}})).encode(), JSON),
    "an object as SurveyID": (json.dumps(valid(SurveyID={"a": "b"})).encode(), JSON),
    "truncated JSON": (json.dumps(valid())[:-7].encode(), JSON),
    "too many fields": (json.dumps(valid(**{f"f{i}": "x" for i in range(500)})).encode(), JSON),
    "a 10,000-character field name": (json.dumps(valid(**{"n" * 10_000: "x"})).encode(), JSON),
}


@pytest.mark.parametrize("case", list(POISON), ids=list(POISON))
def test_a_poison_push_is_400_with_a_json_reason_and_writes_nothing(settings, client, key, case):
    content, content_type = POISON[case]
    before = snapshot(settings)
    answer = post(client, key, content, content_type)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert snapshot(settings) == before


def test_a_duplicate_key_cannot_overwrite_another_respondents_record(settings, client, key):
    victim = valid(ResponseID="R_victim01", Comment="The agent was lovely.")
    assert post(client, key, json.dumps(victim).encode()).status_code == 201
    before = snapshot(settings)
    # A comment piped unescaped into the body: `ok", "ResponseID": "R_victim01` ends the quote.
    attack = b'{"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": "R_attacker1", "Comment": "ok", ' \
             b'"ResponseID": "R_victim01", "Comment": "This app is a scam."}'
    answer = post(client, key, attack)
    assert answer.status_code == 400 and "appears twice" in answer.json()["error"]
    assert snapshot(settings) == before


@pytest.mark.parametrize("content, content_type", [
    (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "responseid": "R_victim01"}', JSON),
    (b'{"SurveyID": "SV_a1", "ResponseID": "R_a1", "EmbeddedData": {"ResponseID": "R_victim01"}}', JSON),
    (b"SurveyID=SV_a1&ResponseID=R_a1&ResponseID=R_victim01", FORM),
], ids=["case folded", "flattened", "form"])
def test_a_field_given_twice_in_any_form_is_refused(settings, client, key, content, content_type):
    answer = post(client, key, content, content_type)
    assert answer.status_code == 400 and "appears twice" in answer.json()["error"]
    assert snapshot(settings) == ((), ())


# ---------------------------------------------------------------- generated bad input

odd_text = st.text(st.characters(codec=None, categories=None), max_size=200)  # includes lone surrogates
fields = st.dictionaries(st.one_of(st.sampled_from(["SurveyID", "ResponseID", "Comment", "Step", "RecordedDate",
                                                    "QID2_TEXT", "region", "responseID"]), odd_text),
                         st.one_of(odd_text, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none(),
                                   st.lists(odd_text, max_size=3),
                                   st.dictionaries(odd_text, odd_text, max_size=3)), max_size=8)


@st.composite
def bad_bodies(draw) -> tuple[bytes, str]:
    kind = draw(st.sampled_from(["json", "truncated", "deep", "huge", "bytes", "form", "form-bytes", "digits"]))
    content_type = draw(st.sampled_from([JSON, FORM, "", "text/plain", "application/json; charset=utf-8"]))
    base = {"SurveyID": "SV_3xAmPlE9sUrVeY1", "ResponseID": "R_gen" + draw(st.text("abc123", min_size=1,
                                                                                    max_size=8))}
    if kind == "json":
        return json.dumps({**base, **draw(fields)}).encode(), content_type
    if kind == "truncated":
        text = json.dumps({**base, **draw(fields)}).encode()
        return text[:draw(st.integers(0, len(text)))], content_type
    if kind == "deep":
        depth = draw(st.sampled_from([10, 1_000, 50_000, 200_000]))
        opener = draw(st.sampled_from([b"[", b'{"a":']))
        closer = b"]" if opener == b"[" else b"}"
        return opener * depth + b"0" + closer * draw(st.integers(0, depth)), content_type
    if kind == "huge":
        size = draw(st.sampled_from([10_001, 200_000, 900_000]))
        name = draw(st.sampled_from(["Comment", "region", "Step", "SurveyID"]))
        return json.dumps({**base, name: draw(st.sampled_from("xé😀\u202e")) * size}).encode(), content_type
    if kind == "bytes":
        return draw(st.binary(max_size=300)), content_type
    if kind == "form":
        pairs = draw(st.lists(st.tuples(odd_text, odd_text), max_size=6))
        safe = [(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")) for a, b in pairs]
        return urlencode([*base.items(), *safe]).encode(), FORM
    if kind == "form-bytes":
        raw = draw(st.binary(max_size=50))
        return f"SurveyID=SV_a1&ResponseID=R_a1&Comment={quote_from_bytes(raw)}".encode(), FORM
    return json.dumps(base).encode()[:-1] + b', "n": ' + b"7" * draw(st.integers(1, 6_000)) + b"}", content_type


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow,
                                                                             HealthCheck.data_too_large])
@given(case=bad_bodies())
def test_generated_bodies_never_answer_5xx_and_a_refused_one_writes_nothing(settings, client, key, case):
    content, content_type = case
    before = snapshot(settings)
    answer = post(client, key, content, content_type)
    assert answer.status_code < 500, (answer.status_code, content[:200])
    reply = answer.json()
    if answer.status_code >= 400:
        assert reply["error"] and snapshot(settings) == before
    else:
        sources, texts = snapshot(settings)
        assert (reply["surveyId"], reply["responseId"]) in {(s[0], s[1]) for s in sources}
        assert all(len(t[2]) <= 10_000 and t[3] >= len(t[2]) for t in texts)
