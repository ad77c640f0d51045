"""Properties of the definition parser on real Qualtrics definitions, mutated the way real ones differ.

Starting points are the corpus files (``../shared/fixtures/qualtrics-corpus``: QSF files, survey-definitions and
GET /surveys responses). Mutations are what PHP, old exports and hand-edited files produce: a list where an object
was (PHP writes arrays keyed 0…n−1 as lists), null, a missing key, a number or a bool where a string was, HTML,
and odd Unicode (lone surrogates, right-to-left marks, emoji, zero-width joiners, combining marks).

Properties: parsing never raises; swapping lists and index-keyed objects changes nothing; a mutation of one
question never drops or alters another question; every text the catalog holds can be stored as UTF-8.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import pandas  # noqa: F401  (scoring imports pandas on its first tally and scipy.special on its first
import scipy.special  # noqa: F401  Student's t: imported here, so Hypothesis never times an import as an example)
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualtrics.definitions import parse_definition
from qualtrics.models import QuestionCatalog
from tests.sandbox_fixtures import SHARED_FIXTURES, needs_shared

# engine_independent: opens no store, so a PostgreSQL run deselects it (tests/engines.py)
pytestmark = [needs_shared, pytest.mark.engine_independent]

#: Every corpus definition under 130 kB (the three bigger ones are parsed whole by tests/test_corpus_definitions.py;
#: here they would only slow each example down).
FILES = sorted(
    str(p.relative_to(SHARED_FIXTURES))
    for pattern in ("qualtrics-corpus/qsf/*.qsf", "qualtrics-corpus/api/*.json", "qualtricstools-real/*.qsf")
    for p in SHARED_FIXTURES.glob(pattern) if p.stat().st_size < 130_000
) if SHARED_FIXTURES.is_dir() else []

ODD_TEXT = [
    "\ud800", "abc\udfffdef", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd", "👍🏽 Very satisfied 😀",
    "e\u0301\u0301\u0301", "\u200d\u200b", "<b>N/A</b>", "<script>alert(1)</script>Yes", "&lt;b&gt;", "\x00", "",
    "=HYPERLINK(\"http://x\")", "9" * 400, "Don\u2019t know / no opinion",
]
ODD_VALUES: list[Any] = [None, 0, 1, -1, 1.5, 10**30, True, False, "", "true", [], {}, [None], {"0": None},
                         ["x", 3], {"Display": None}, *ODD_TEXT]


@cache
def _load(name: str) -> str:
    return (SHARED_FIXTURES / name).read_text(encoding="utf-8-sig")


def definition(name: str) -> Any:
    return json.loads(_load(name))


@cache
def baseline(name: str) -> QuestionCatalog:
    return parse_definition(definition(name))


def questions_of(result: Any) -> list[tuple[str, dict]]:
    """(question id, the question's own object) for each question of any definition shape."""
    result = result.get("result", result)
    if "Questions" in result:
        return [(k, v) for k, v in result["Questions"].items() if isinstance(v, dict)]
    if "SurveyElements" in result:
        return [(e["PrimaryAttribute"], e["Payload"]) for e in result["SurveyElements"]
                if e.get("Element") == "SQ" and isinstance(e.get("Payload"), dict)]
    return [(k, v) for k, v in result["questions"].items() if isinstance(v, dict)]


def containers(node: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """Every list and object inside ``node`` with its path."""
    if isinstance(node, (dict, list)):
        yield path, node
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, child in items:
            yield from containers(child, (*path, key))


def flipped(node: Any, flip: Any) -> Any:
    """Lists become index-keyed objects and objects keyed exactly 0…n−1 become lists, where ``flip()`` says so."""
    if isinstance(node, list):
        items = [flipped(v, flip) for v in node]
        return {str(i): v for i, v in enumerate(items)} if flip() else items
    if isinstance(node, dict):
        items = {k: flipped(v, flip) for k, v in node.items()}
        if items and list(items) == [str(i) for i in range(len(items))] and flip():
            return list(items.values())
        return items
    return node


def offered_by_parent(catalog: QuestionCatalog) -> dict[str, list]:
    found: dict[str, list] = {}
    for q in catalog.questions:
        found.setdefault(q.parent_id or q.id, []).append((q.id, q.export_tag, q.choices, q.scale, q.suggested_type))
    return found


def carried_from(result: Any, qid: str) -> set[str]:
    """Questions whose rows come from ``qid`` (carry forward): mutating ``qid`` may rightly change them."""
    return {other for other, q in questions_of(result)
            if qid and f"q://{qid}/" in json.dumps(q.get("DynamicChoices") or q.get("dynamicChoices") or {})}


def storable(catalog: QuestionCatalog) -> None:
    for q in catalog.questions:
        for value in (q.id, q.export_tag, q.text, q.row_label or "", *(c.label for c in q.choices),
                      *(c.value for c in q.choices)):
            value.encode("utf-8")
    for s in catalog.skipped:
        (s.id + s.text + s.reason + s.export_tag).encode("utf-8")


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", FILES)
def test_every_real_definition_parses_with_storable_text(name: str) -> None:
    storable(baseline(name))


@SETTINGS
@given(name=st.sampled_from(FILES or ["-"]), coin=st.randoms(use_true_random=False))
def test_php_lists_and_index_keyed_objects_are_the_same_definition(name: str, coin: Any) -> None:
    mutated = flipped(definition(name), lambda: coin.random() < 0.5)
    assert parse_definition(mutated) == baseline(name)


@SETTINGS
@given(name=st.sampled_from(FILES or ["-"]), data=st.data())
def test_a_mutated_question_never_fails_the_survey_nor_changes_another_question(name: str, data: Any) -> None:
    result = definition(name)
    questions = questions_of(result)
    qid, question = data.draw(st.sampled_from(questions), label="question")
    places = list(containers(question))
    path, node = data.draw(st.sampled_from(places), label="container")
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if not keys:
        return
    key = data.draw(st.sampled_from(keys), label="key")
    action = data.draw(st.sampled_from(["replace", "delete", "flip", "html", "odd-unicode"]), label="action")
    old = node[key]
    if action == "delete":
        node.pop(key) if isinstance(node, dict) else node.pop(key)
    elif action == "flip":
        node[key] = ({str(i): v for i, v in enumerate(old)} if isinstance(old, list)
                     else list(old.values()) if isinstance(old, dict) else [old])
    elif action == "html":
        node[key] = f"<p><span style=\"color:red\">{old}</span></p>" if isinstance(old, str) else old
    elif action == "odd-unicode":
        node[key] = data.draw(st.sampled_from(ODD_TEXT)) + (old if isinstance(old, str) else "")
    else:
        node[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES), label="value"))

    catalog = parse_definition(result)  # never raises
    storable(catalog)
    touched = {qid, str(question.get("QuestionID") or qid)} | carried_from(definition(name), qid)
    before = {k: v for k, v in offered_by_parent(baseline(name)).items() if k.split("_")[-1] not in touched
              and k not in touched}
    after = offered_by_parent(catalog)
    for parent, offered in before.items():
        assert after.get(parent) == offered, f"{parent} changed after mutating {qid} at {path + (key,)}"
    still_skipped = {s.id: s.reason for s in catalog.skipped}
    for s in baseline(name).skipped:
        if s.id.split("_")[0] not in touched and s.id not in touched and not s.id.startswith(tuple(touched)):
            assert still_skipped.get(s.id) == s.reason


@SETTINGS
@given(name=st.sampled_from(FILES or ["-"]), data=st.data())
def test_damaged_blocks_flow_or_survey_elements_never_fail_the_parse(name: str, data: Any) -> None:
    """Blocks, flow, loops and the element list themselves may be null, missing, of the wrong type."""
    whole = definition(name)
    result = whole.get("result", whole)
    places = [(p, n) for p, n in containers(result)
              if not p or p[0] in {"Blocks", "SurveyFlow", "blocks", "flow", "loopAndMerge", "SurveyElements"}]
    path, node = data.draw(st.sampled_from(places), label="container")
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if not keys:
        return
    key = data.draw(st.sampled_from(keys), label="key")
    if data.draw(st.booleans(), label="delete"):
        node.pop(key)
    else:
        node[key] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES), label="value"))
    try:
        catalog = parse_definition(whole)
    except ValueError as exc:  # only when the mutation removed what makes it a definition at all
        assert path == () and key in {"Questions", "SurveyElements", "questions"}, exc
        return
    storable(catalog)


@SETTINGS
@given(name=st.sampled_from(FILES or ["-"]), data=st.data())
def test_offered_and_skipped_ids_are_unique_even_when_a_question_is_duplicated(name: str, data: Any) -> None:
    """The catalog is stored keyed by (survey, id): a file holding one question twice must not break that."""
    whole = definition(name)
    result = whole.get("result", whole)
    qid, question = data.draw(st.sampled_from(questions_of(result)), label="question")
    if "SurveyElements" in result:
        result["SurveyElements"].append({"Element": "SQ", "PrimaryAttribute": qid, "Payload": copy.deepcopy(question)})
    else:
        return  # object-keyed shapes cannot hold a key twice
    catalog = parse_definition(whole)
    ids = [q.id for q in catalog.questions]
    assert len(ids) == len(set(ids))
    assert any("twice" in s.reason for s in catalog.skipped if s.id == qid)
    assert offered_by_parent(catalog) == offered_by_parent(baseline(name))
