"""The one not-an-answer rule (vocabulary.not_an_answer), on labels as real Qualtrics surveys write them.

Every label below was found in a real survey file of the corpus (``../shared/fixtures/qualtrics-corpus``,
quoted verbatim, HTML and curly apostrophes included) unless marked as another language's usual wording;
the corpus holds no non-English not-an-answer choice, so those come from common survey translations.
"""

from __future__ import annotations

import pytest

from qualtrics.definitions import scale_of
from qualtrics.models import Choice
from scoring import MetricType, Sentiment, default_mapping
from vocabulary import is_not_an_answer, is_unsure, normalise_label

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


@pytest.mark.parametrize("label", [
    "Don’t know/ no opinion",              # legacy_political_survey_2022 (curly apostrophe)
    "Don’t know / no opinion",
    "Don't Know / No Opinion",
    "Have NOT used",                       # qt_sample_survey_winter2021 QID17
    "No basis for evaluation",             # qt_no_basis_for_evaluation_2016
    "Never heard of",                      # legacy_political_survey_2022 QID4123
    "Heard of, no opinion",
    "NA, I don't have any opinion. (997)",  # recode in brackets
    "Other/Prefer not to say",             # legacy_cats_nps_2025
    "Prefer not to Answer",
    "Prefer not to disclose",
    "Not applicable",
    "n/a",
    "<strong>N/A</strong>",
    '<span style="font-size:22px;">Not applicable</span>',
    "Does not apply",
    "I don't know.",
    "Never tried it",
])
def test_real_not_an_answer_labels_are_recognised(label: str) -> None:
    assert is_not_an_answer(label)


@pytest.mark.parametrize("label", [
    "Weiß nicht", "Keine Angabe", "Kann ich nicht beurteilen", "Ne sais pas", "Je ne sais pas", "Sans opinion",
    "No sé", "Prefiero no contestar", "Non so", "Weet niet", "Geen mening",
])
def test_other_language_forms_are_recognised(label: str) -> None:
    assert is_not_an_answer(label)


@pytest.mark.parametrize("label", [
    "Neither satisfied nor dissatisfied", "Neither likely nor unlikely", "Not at all likely", "Never",
    "Single, never married", "Never been married", "I've never had squash", "Not satisfied", "None",
    "No", "Nein", "Non", "Use Appleton Post-Dispatch", "No, and I am not sure if I will get it in the future",
    "I hate to borrow money; I would much rather save up in advance of a purchase", "Nashville", "",
])
def test_real_answers_are_never_taken_for_not_an_answer(label: str) -> None:
    assert not is_not_an_answer(label)


def test_labels_are_normalised_without_html_accents_or_apostrophes() -> None:
    assert normalise_label("<b>Don’t</b> know!") == "dont know"
    assert normalise_label("Weiß nicht") == "weiss nicht"
    assert is_unsure("Not sure") and not is_not_an_answer("Not sure")


def test_never_heard_of_is_excluded_by_the_scoring_not_counted_positive() -> None:
    """The favourability matrix QID4123 of the real political survey: its last choice must not be Positive."""
    labels = ["Very favorable", "Somewhat favorable", "Somewhat unfavorable", "Very unfavorable",
              "Heard of, no opinion", "Never heard of"]
    mapping = default_mapping(MetricType.CSAT, [(str(i), label, None) for i, label in enumerate(labels, 1)])
    sentiments = {row.label: row.sentiment for row in mapping.rows}
    assert sentiments["Never heard of"] == Sentiment.EXCLUDED
    assert sentiments["Heard of, no opinion"] == Sentiment.EXCLUDED


def test_the_definition_and_the_scoring_agree_on_the_scale_of_a_curly_dont_know() -> None:
    """A 1-5 scale with "Don’t know / no opinion" recoded 6: the definition's scale stays 1-5."""
    choices = [Choice(str(i), f"{i}", None) for i in range(1, 6)] + [Choice("6", "Don’t know / no opinion", None)]
    assert scale_of(choices).kind == "1-5"
