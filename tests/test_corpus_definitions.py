"""Every real survey definition of ../shared is a test case: what the catalog offers, suggests and skips, and why.

The table below was written by reading each file (question types and selectors, which block each question sits
in, which blocks are Trash or outside the survey flow, loop & merge options, text-entry rows, recodes), not by
printing the parser's output. Exact ids where a file is small; counts plus the notable ids where it is big (the
political survey, 96 questions; the two 2025 studies, 160 and 331). Files: qualtrics-corpus/qsf/*.qsf,
qualtrics-corpus/api/*.json, qualtricstools-real/*.qsf and the definitions in qualtrics-real/.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import pytest

from qualtrics.definitions import parse_definition
from qualtrics.models import QuestionCatalog
from tests.sandbox_fixtures import SHARED_FIXTURES, needs_shared

# engine_independent: opens no store, so a PostgreSQL run deselects it (tests/engines.py)
pytestmark = [needs_shared, pytest.mark.engine_independent]

TRASH = "in the Trash block"
NOFLOW = "not in the survey flow"
TEXT = "open-text answers have no scale"
TYPED = "typed in by the respondent"
MULTI = "multiple-answer"
SBS = "side-by-side"
SLIDER = "slider"
DB = "descriptive text"
TIMING = "timing data"
META = "browser metadata"
RANK = "rank-order"
CSUM = "constant-sum"
PGR = "pick, group and rank"
CAPTCHA = "a captcha"
DD = "question type DD"
NOT_SINGLE = "is not a single-answer matrix"
CARRIED = "carried forward"


@dataclass(frozen=True)
class Expected:
    offered: int                                   # how many questions (matrix rows, loops) are offered
    ids: tuple[str, ...] = ()                      # offered ids: all of them when exact, else notable ones
    exact: bool = False
    suggestions: dict[str, int] = field(default_factory=dict)  # every suggestion the file gets, by type
    suggested: dict[str, str] = field(default_factory=dict)    # notable ids and their suggested type
    scales: dict[str, tuple] = field(default_factory=dict)     # id -> (kind, minimum, maximum)
    skipped: dict[str, str] = field(default_factory=dict)      # id -> words of its reason
    skipped_total: int = 0                         # how many are skipped in all (== len(skipped) when exact)


def rows(qid: str, *row_ids: object) -> tuple[str, ...]:
    return tuple(f"{qid}_{r}" for r in row_ids)


API_TEST_PROJECT_PASCAL = Expected(  # survey-definitions SV_6s93xhVtm1e4j3v, Pascal and ?format=qsf alike
    offered=11, exact=True,
    ids=("QID1_1", "QID1_2", "QID2", *rows("QID4", 1, 2), *rows("QID5", 1, 2), *rows("QID6", 1, 2, 3), "QID7"),
    skipped={"QID3": TRASH, "QID11": TRASH, "QID16": NOFLOW, "QID17": NOFLOW, "QID1_3": TYPED, "QID4_3": TYPED,
             "QID5_3": TYPED, "QID8": SBS, "QID9": TEXT, "QID10": TEXT, "QID12": DD, "QID13": RANK,
             "QID14": TIMING, "QID15": META},
    skipped_total=14)
BESKAR_PASCAL = Expected(
    offered=4, exact=True, ids=("QID16", "QID17", "QID18", "QID63"),
    suggestions={"csat": 1}, suggested={"QID16": "csat"}, scales={"QID16": ("1-5", 1, 5), "QID18": ("other", 1, 3)},
    skipped={"QID19": TEXT, "QID22": TEXT, "QID20": TRASH, "QID21": TRASH, "QID64": TRASH, "QID65": TRASH,
             "QID66": TRASH, "QID67": TRASH},
    skipped_total=8)
BESKAR_CAMEL = Expected(  # GET /surveys leaves the Trash block's questions out altogether
    offered=4, exact=True, ids=("QID16", "QID17", "QID18", "QID63"),
    suggestions={"csat": 1}, suggested={"QID16": "csat"}, scales={"QID16": ("1-5", 1, 5)},
    skipped={"QID19": TEXT, "QID22": TEXT}, skipped_total=2)
API_TEST_PROJECT_CAMEL = dict(
    skipped={"QID1_3": TYPED, "QID4_3": TYPED, "QID5_3": TYPED, "QID8": SBS, "QID9": TEXT, "QID10": TEXT,
             "QID12": DD, "QID13": RANK, "QID14": TIMING, "QID15": META},
    skipped_total=10)
CATS_CAMEL = Expected(
    offered=7, exact=True, ids=("QID1", "QID2", "QID9", "QID18", "QID21", "QID30", "QID37"),
    suggestions={"nps": 1}, suggested={"QID18": "nps"}, scales={"QID18": ("0-10", 0, 10)},
    skipped={"QID3": DB, "QID101": DB, "QID27": TEXT, "QID28": TEXT, "QID34": TEXT, "QID36": MULTI},
    skipped_total=6)
SOURDOUGH_CAMEL = Expected(
    offered=17, exact=True,
    ids=(*rows("QID1", 1, 2, 3, 4, 5), "QID200", "QID201", "QID202", "QID203", "QID204", "QID300", "QID301",
         "QID302", "QID303", "QID304", "QID1002", "QID1006"),
    # "Have NOT used" reads as not-an-answer (it is one in rating scales, e.g. the winter 2021 side-by-side), so
    # the usage question QID200 keeps a one-point scale; it is no rating either way and gets no suggestion.
    scales={"QID300": ("1-5", 1, 5), "QID200": ("other", 1, 1)},
    skipped={"QID5": DB, "QID2001": DB, "QID1007": TEXT}, skipped_total=3)
SINGLE_ANSWER_MC = Expected(offered=5, exact=True, ids=("QID2", "QID3", "QID4", "QID5", "QID6"))
SINGLE_ANSWER_MATRIX = Expected(
    offered=14, exact=True,
    ids=(*rows("QID2", 1, 2, 3), *rows("QID3", 1, 2, 3), "QID4_1", "QID4_3", *rows("QID5", 1, 2, 3),
         *rows("QID6", 1, 2, 3)),
    skipped={"QID4_2": TYPED}, skipped_total=1)

TABLE: dict[str, Expected] = {
    # -- QSF files -----------------------------------------------------------------------------------------
    "qualtrics-corpus/qsf/claessens_ai_moral_decisions_2025.qsf": Expected(
        # 120 two-option SAHR items, 5 single-answer demographics, and 8 SAHR scales in the loop & merge block
        # BL_9S66z8svwdXl8z4, whose LoopingOptions.Static lists 60 decisions: 8 x 60 = 480 looped ids.
        offered=605, ids=("1_QID142", "60_QID142", "1_QID146", "60_QID146"),
        suggestions={}, skipped_total=15),  # 10 descriptive, 4 text boxes, 1 captcha
    "qualtrics-corpus/qsf/claessens_person_trust_ai_2025.qsf": Expected(
        offered=301, suggestions={}, skipped_total=30),  # 27 descriptive, 2 text boxes, 1 captcha; no loops
    "qualtrics-corpus/qsf/projoint_mummolo_nall_2021.qsf": Expected(
        offered=21, exact=True,
        ids=("QID35", "QID47", "QID158", "QID159", "QID164", "QID167", "QID169", "QID171", "QID173", "QID175",
             "QID177", "QID179", "QID182", "QID198", "QID199", "QID200", "QID201", "QID202", "QID205", "QID206",
             "QID207"),
        suggestions={},  # QID200's 7-point liberal-conservative scale and QID159's 8 age bands are no CES
        scales={"QID200": ("1-7", 1, 7)},
        skipped={"QID163": TRASH, "QID203": TRASH, "QID204": TRASH, "QID13": DB, "QID25": DB, "QID39": DB,
                 "QID115": DB, "QID157": DB, "QID37": TEXT},
        skipped_total=9),
    "qualtrics-corpus/qsf/psych251_porter2016_2023.qsf": Expected(
        offered=16, exact=True,
        ids=("QID2", "QID5", "QID10", "QID11", "QID21", "QID22", "QID26", "QID27", "QID31", "QID33", "QID34",
             "QID35", "QID36", "QID37", "QID39", "QID42"),
        suggestions={},  # 7-point agreement (QID34/35) and 5-point likelihood (QID2) scales: no metric wording
        skipped={**{q: SLIDER for q in ("QID3", "QID4", "QID8", "QID9", "QID19", "QID20", "QID24", "QID25",
                                        "QID30", "QID38")},
                 **{q: DB for q in ("QID1", "QID7", "QID18", "QID23", "QID40")},
                 "QID13": TEXT, "QID29": TEXT, "QID32": TEXT},
        skipped_total=18),
    "qualtrics-corpus/qsf/qsfpkg_sq_example_de_fr.qsf": Expected(  # question ids Q1, Q2 (not QIDn)
        offered=2, exact=True, ids=("Q1", "Q2")),
    "qualtrics-corpus/qsf/qt_choice_text_from_response_columns_2016.qsf": Expected(
        offered=16, exact=True,
        ids=(*rows("QID1", 1, 2, 3, 4), *rows("QID3", 1, 2, 3, 4), *rows("QID4", 1, 2, 3, 4),
             *rows("QID5", 1, 2, 3, 4)),
        skipped={"QID2": TRASH}, skipped_total=1),
    "qualtrics-corpus/qsf/qt_coded_comments_2016.qsf": Expected(
        offered=1, exact=True, ids=("QID1",), skipped={"QID2": TEXT}, skipped_total=1),
    "qualtrics-corpus/qsf/qt_dummy_enhancement_2020.qsf": Expected(
        offered=7, exact=True, ids=("QID2", "QID6_1", "QID6_2", "QID7_1", "QID7_2", "QID8", "QID10"),
        suggestions={"csat": 2}, suggested={"QID7_1": "csat", "QID7_2": "csat"},
        # QID7: Very satisfied 4 … Very dissatisfied 1, Not applicable -1: a 1-4 CSAT; QID8's "NA - did not use" -1
        scales={"QID7_1": ("other", 1, 4), "QID8": ("other", 1, 3)},
        skipped={"QID4": TRASH, "QID5": TRASH, "QID9": TRASH, "QID12": TRASH, "QID14": TRASH, "QID17": SBS,
                 "QID1": TEXT, "QID3": TEXT, "QID11": TEXT, "QID16": TEXT, "QID13": MULTI, "QID15": MULTI},
        skipped_total=12),
    "qualtrics-corpus/qsf/qt_dummy_survey_to_test_2020.qsf": Expected(
        offered=5, exact=True, ids=("QID2", "QID6_1", "QID6_2", "QID7_1", "QID7_2"),
        suggestions={"csat": 2}, scales={"QID7_2": ("other", 1, 4)},
        skipped={"QID4": TRASH, "QID5": TRASH, "QID1": TEXT, "QID3": TEXT}, skipped_total=4),
    "qualtrics-corpus/qsf/qt_long_exhaustive2_2020.qsf": Expected(
        # 10 single-answer matrices x 4 rows (incl. QID39 drag-and-drop, QID27 dropdown; QID26's row 5 is typed),
        # QID20 with 1 row, 8 single-answer MC (incl. QID10 dropdown, QID11 select box).
        offered=49,
        ids=(*rows("QID39", 1, 2, 3, 4), *rows("QID27", 1, 2, 3, 4), *rows("QID26", 1, 2, 3, 4), "QID20_1",
             "QID2", "QID3", "QID4", "QID5", "QID6", "QID7", "QID10", "QID11"),
        suggestions={},
        skipped={"QID38": TRASH, "QID49": TRASH, "QID51": TRASH, "QID26_5": TYPED, "QID50": NOT_SINGLE,
                 "QID46": NOT_SINGLE, "QID1": DB, "QID47": TEXT, "QID48": TEXT,
                 **{q: SBS for q in ("QID40", "QID41", "QID42", "QID43", "QID44", "QID45")},
                 **{q: MULTI for q in ("QID29", "QID30", "QID31", "QID32", "QID33", "QID34", "QID35", "QID36",
                                       "QID37", "QID9", "QID12", "QID13", "QID14", "QID15", "QID16", "QID21")}},
        skipped_total=31),
    "qualtrics-corpus/qsf/qt_long_exhaustive_2016.qsf": Expected(  # as above, 2016 edition: no QID51
        offered=49, ids=(*rows("QID39", 1, 2, 3, 4), *rows("QID27", 1, 2, 3, 4), "QID20_1", "QID10", "QID11"),
        suggestions={},
        skipped={"QID38": TRASH, "QID49": TRASH, "QID26_5": TYPED, "QID50": NOT_SINGLE, "QID46": NOT_SINGLE},
        skipped_total=30),
    "qualtrics-corpus/qsf/qt_many_question_types_2016.qsf": Expected(
        offered=16, exact=True,
        ids=("QID1", "QID19", "QID36", "QID45", *rows("QID3", 1, 2, 3), *rows("QID21", 1, 2, 3),
             *rows("QID38", 1, 2, 3), *rows("QID47", 1, 2, 3)),
        suggestions={},
        skipped={**{q: TRASH for q in ("QID6", "QID7", "QID8", "QID9", "QID10", "QID12", "QID13", "QID14",
                                       "QID15", "QID16", "QID17", "QID26", "QID27", "QID28", "QID29", "QID30",
                                       "QID31", "QID32", "QID33", "QID34")},
                 **{q: SLIDER for q in ("QID5", "QID24", "QID42", "QID51")},
                 **{q: TEXT for q in ("QID18", "QID25", "QID43", "QID52")},
                 **{q: MULTI for q in ("QID2", "QID20", "QID35", "QID37", "QID39", "QID44", "QID46", "QID48")},
                 **{q: SBS for q in ("QID4", "QID11", "QID22", "QID23", "QID40", "QID41", "QID49", "QID50")}},
        skipped_total=44),
    "qualtrics-corpus/qsf/qt_matrix_single_answer_testing_2017.qsf": Expected(
        offered=21, exact=True,
        ids=(*rows("QID1", 1, 2, 3), *rows("QID2", 1, 2, 3), *rows("QID3", 1, 2, 3), *rows("QID4", 1, 2),
             *rows("QID6", 1, 2), "QID8_1", "QID10_1", *rows("QID11", 1, 2, 3), *rows("QID12", 1, 2, 3)),
        skipped={"QID5": TRASH, "QID7": TRASH, "QID9": TRASH}, skipped_total=3),
    "qualtrics-corpus/qsf/qt_mc_with_na_2020.qsf": Expected(
        offered=6, exact=True, ids=("QID1", "QID2", "QID3", "QID4_1", "QID5_1", "QID6_1"),
        scales={"QID2": ("other", 1, 3), "QID5_1": ("other", 1, 3)}),  # "na - did not use" recoded -1
    "qualtrics-corpus/qsf/qt_mcma_recodes_900_2020.qsf": Expected(
        offered=0, skipped={q: MULTI for q in ("QID1", "QID2", "QID3", "QID4")}, skipped_total=4),
    "qualtrics-corpus/qsf/qt_multiple_answer_matrix_2016.qsf": Expected(
        offered=0, skipped={q: MULTI for q in ("QID2", "QID3", "QID4", "QID5", "QID6")}, skipped_total=5),
    "qualtrics-corpus/qsf/qt_multiple_answer_mc_2016.qsf": Expected(
        offered=0, skipped={q: MULTI for q in ("QID2", "QID3", "QID4", "QID5", "QID6")}, skipped_total=5),
    "qualtrics-corpus/qsf/qt_no_basis_for_evaluation_2016.qsf": Expected(
        offered=9, exact=True, ids=("QID1", *rows("QID3", 1, 2, 3, 4), *rows("QID4", 1, 2, 3, 4)),
        scales={"QID1": ("other", 1, 3), "QID3_1": ("other", 1, 3)},  # "No opinion" recoded -1 stays out
        skipped={"QID2": MULTI, "QID5": MULTI, "QID6": MULTI}, skipped_total=3),
    "qualtrics-corpus/qsf/qt_notes_survey_2017.qsf": Expected(
        offered=3, exact=True, ids=("QID1", "QID2", "QID3"), skipped={"QID4": TRASH}, skipped_total=1),
    "qualtrics-corpus/qsf/qt_sample_2016-02.qsf": Expected(
        offered=14, exact=True,
        ids=(*rows("QID1", 1, 2, 3), *rows("QID2", 1, 2, 3), *rows("QID4", 1, 2, 3), "QID7", "QID8", "QID9",
             "QID10", "QID11"),  # QID1 Bipolar, QID4 Likert dropdown (DL), QID9 SACOL, QID7 SAHR, QID11 SB
        suggestions={"csat": 3}, scales={"QID2_1": ("1-5", 1, 5)},
        skipped={"QID18": TRASH, "QID3": MULTI, "QID12": MULTI, "QID13": MULTI, "QID14": MULTI, "QID19": MULTI,
                 "QID15": RANK, "QID16": RANK, "QID17": SBS},
        skipped_total=9),
    "qualtrics-corpus/qsf/qt_sample_survey_2016.qsf": Expected(
        offered=7, exact=True, ids=("QID1", *rows("QID2", 1, 2, 3), *rows("QID8", 1, 2, 3)),
        scales={"QID2_1": ("other", 1, 3)},  # Enjoy 1, Ambivalent 2, Dislike 3; "Never Tried It" -1 is no answer
        skipped={"QID7": TRASH, "QID6": SBS, "QID10": SBS, "QID11": SBS, "QID12": SBS, "QID3": TEXT,
                 "QID4": MULTI, "QID9": MULTI, "QID5": MULTI},
        skipped_total=9),
    "qualtrics-corpus/qsf/qt_sample_survey_winter2021.qsf": Expected(
        # 6 single-answer MC; matrices QID6 (2 rows), QID7 (2), QID37 (7), QID32 dropdown (4); QID25 and QID30
        # minus their typed rows; QID38 carries the 7 sports of QID36 forward as QID38_x4 … QID38_x10.
        offered=34,
        ids=("QID2", "QID8", "QID10", "QID18", "QID19", "QID33", *rows("QID32", 1, 2, 5, 7),  # row ids as stored
             *(f"QID38_x{c}" for c in range(4, 11)), "QID25_1", "QID25_2", "QID25_4", "QID30_1", "QID30_4"),
        suggestions={"csat": 22},  # QID7, QID25, QID30, QID37, QID38: satisfaction labels; QID32 "helpful": none
        suggested={"QID7_1": "csat", "QID38_x4": "csat", "QID32_1": None},  # type: ignore[dict-item]
        scales={"QID7_1": ("other", 1, 4), "QID38_x10": ("other", 1, 4)},
        skipped={"QID17": SBS, "QID1": TEXT, "QID3": TEXT, "QID11": TEXT, "QID34": TEXT, "QID25_5": TYPED,
                 "QID25_6": TYPED, "QID30_6": TYPED,
                 **{q: MULTI for q in ("QID13", "QID15", "QID20", "QID21", "QID26", "QID27", "QID36")}},
        skipped_total=15),
    "qualtrics-corpus/qsf/qt_side_by_side_2016.qsf": Expected(
        offered=0, skipped={f"QID{i}": SBS for i in range(1, 9)}, skipped_total=8),
    "qualtrics-corpus/qsf/qt_single_answer_matrix_2016.qsf": SINGLE_ANSWER_MATRIX,
    "qualtrics-corpus/qsf/qt_single_answer_mc_2016.qsf": SINGLE_ANSWER_MC,
    "qualtrics-corpus/qsf/qt_survey_logic_everywhere_2016.qsf": Expected(
        offered=7, exact=True, ids=("QID1", "QID2", "QID3", "QID4", *rows("QID5", 1, 2, 3))),
    "qualtrics-corpus/qsf/qt_text_entry_components_2017.qsf": Expected(
        offered=3, exact=True, ids=("QID1", "QID2", "QID4_3"),  # choices with text boxes stay choices of QID1/2
        skipped={"QID3": MULTI, "QID4_1": TYPED, "QID4_2": TYPED, "QID5": SBS}, skipped_total=4),
    "qualtrics-corpus/qsf/rios_qualtrics_health_2015.qsf": Expected(
        # 2015 file: Choices are JSON lists, so choice ids are their indexes 0…n-1; Blocks is an object keyed 1, 3.
        offered=22, ids=("QID17671684", "QID17671687", "QID17671693"),
        suggestions={}, scales={"QID17671684": ("other", 0, 3), "QID17671687": ("other", 0, 6)},
        skipped={"QID17671679": TEXT, "QID17671680": TEXT, "QID17671689": TEXT, "QID17671673": DB,
                 "QID17671682": DB, "QID17671686": DB, "QID17671694": DB},
        skipped_total=7),
    "qualtrics-corpus/qsf/sp_test_survey_2019_full.qsf": Expected(
        offered=17, exact=True,
        ids=("QID1", "QID3", *rows("QID5", 1, 2, 3), "QID11", "QID15", "QID18", "QID20", "QID26", "QID27",
             *rows("QID28", "x1", "x2", "x3"), "1_QID31", "2_QID31", "3_QID31"),
        suggestions={"nps": 1}, suggested={"QID15": "nps"}, scales={"QID15": ("0-10", 0, 10)},  # Choices: a list
        skipped={"QID2": TRASH, "QID12": TRASH, "QID24": TRASH, "QID25": TRASH, "QID5_4": TYPED,
                 "QID28_x4": TYPED, "QID4": MULTI, "QID13": MULTI, "QID19": MULTI, "QID30": MULTI, "QID32": MULTI,
                 "QID6": NOT_SINGLE, "QID7": TEXT, "QID8": TEXT, "QID9": TEXT, "QID33": TEXT, "QID10": RANK,
                 "QID29": RANK, "QID14": DB, "QID16": TIMING, "QID17": PGR, "QID21": CARRIED, "QID22": META,
                 "QID23": CSUM},
        skipped_total=24),
    "qualtrics-corpus/qsf/sp_test_survey_2019_min.qsf": Expected(
        offered=9, exact=True,
        ids=("QID1", "QID3", *rows("QID5", 1, 2, 3), "QID11", "QID15", "QID18", "QID20"),
        suggestions={"nps": 1}, scales={"QID15": ("0-10", 0, 10)},
        skipped={"QID2": TRASH, "QID12": TRASH, "QID5_4": TYPED, "QID4": MULTI, "QID13": MULTI, "QID19": MULTI,
                 "QID6": NOT_SINGLE, "QID7": TEXT, "QID8": TEXT, "QID9": TEXT, "QID10": RANK, "QID14": DB,
                 "QID16": TIMING, "QID17": PGR, "QID21": CARRIED, "QID22": META},
        skipped_total=16),
    # -- saved API responses -----------------------------------------------------------------------------
    "qualtrics-corpus/api/def_api_test_project_2021.json": API_TEST_PROJECT_PASCAL,
    "qualtrics-corpus/api/def_api_test_project_format_qsf_2023.json": API_TEST_PROJECT_PASCAL,
    "qualtrics-corpus/api/def_beskar_csat_2025.json": BESKAR_PASCAL,
    "qualtrics-corpus/api/legacy_api_test_project_2020-12-07.json": Expected(
        # this earlier revision shows the "Nondisplayed" QID16/QID17 in its flow
        offered=13, exact=True,
        ids=("QID1_1", "QID1_2", "QID2", "QID4_1", "QID4_2", "QID5_1", "QID5_2", *rows("QID6", 1, 2, 3), "QID7",
             "QID16", "QID17"),
        **API_TEST_PROJECT_CAMEL),  # type: ignore[arg-type]
    "qualtrics-corpus/api/legacy_api_test_project_2020-12-08.json": Expected(
        offered=11, exact=True,
        ids=("QID1_1", "QID1_2", "QID2", "QID4_1", "QID4_2", "QID5_1", "QID5_2", *rows("QID6", 1, 2, 3), "QID7"),
        **API_TEST_PROJECT_CAMEL),  # type: ignore[arg-type]
    "qualtrics-corpus/api/legacy_beskar_2020.json": BESKAR_CAMEL,
    "qualtrics-corpus/api/legacy_beskar_2025.json": BESKAR_CAMEL,
    "qualtrics-corpus/api/legacy_cats_nps_2025.json": CATS_CAMEL,
    "qualtrics-corpus/api/legacy_political_survey_2022.json": Expected(
        # 96 questions in 21 blocks; matrices with 75, 62, 54 rows; loop & merge blocks with 5, 6 and 4 loops
        # around the 3-row matrices QID4137, QID4143, QID4149.
        offered=353,
        ids=("1_QID4137_1", "5_QID4137_3", "1_QID4143_1", "6_QID4143_3", "1_QID4149_1", "4_QID4149_3",
             "QID4123_1", "QID4037_2"),
        suggestions={"ces": 1},  # "The questions in the survey were easy to understand" (agree/disagree)
        suggested={"QID4037_2": "ces"},
        scales={"1_QID4137_1": ("1-5", 1, 5), "QID4123_1": ("other", 1, 4)},  # "Never heard of" is no answer
        # 16 page timers, 9 descriptive texts, 6 text boxes, the browser meta info and one highlight question
        skipped={"QID20": META, "QID4127": "question type HL"}, skipped_total=33),
    "qualtrics-corpus/api/legacy_pytrics_example_2019.json": Expected(
        offered=3, exact=True, ids=("QID1", "QID5", "QID10"), suggestions={"nps": 1}, suggested={"QID1": "nps"},
        skipped={f"QID{i}": TEXT for i in (2, 3, 4, 6, 7, 8, 9)}, skipped_total=7),
    "qualtrics-corpus/api/legacy_sourdough_2025.json": SOURDOUGH_CAMEL,
    "qualtrics-corpus/api/legacy_test_survey_2022.json": Expected(
        offered=11, exact=True,
        ids=("QID4", "QID6", "QID7", "QID8", "QID9", "QID10", "QID11", "QID12", *rows("QID14", 1, 2, 3)),
        suggestions={},  # QID12 "I'm pretty awesome", 7-point agreement: no CES
        scales={"QID12": ("1-7", 1, 7)},
        skipped={"QID1": TEXT, "QID2": DB, "QID3": DB, "QID5": MULTI}, skipped_total=4),
    "qualtrics-corpus/api/legacy_trial_2018.json": Expected(
        offered=18, ids=("QID172807700", "QID172807691"),
        suggestions={"csat": 2, "ces": 2, "nps": 1},
        suggested={"QID172807689": "csat", "QID172807693": "csat", "QID172807698": "ces", "QID172807701": "ces",
                   "QID172807692": "nps", "QID172807700": None, "QID172807691": None},  # type: ignore[dict-item]
        scales={"QID172807698": ("1-7", 1, 7), "QID172807692": ("0-10", 0, 10)},
        skipped={"QID91": DB}, skipped_total=1),
    # -- QualtricsTools test files, and the recorded responses of qualtrics-real ------------------------------
    "qualtricstools-real/Single_Answer_MC_Questions.qsf": SINGLE_ANSWER_MC,
    "qualtricstools-real/Single_Answer_Matrix_Questions.qsf": SINGLE_ANSWER_MATRIX,
    "qualtrics-real/get_survey_SV_3gbwq8aJgqPwQDP_beskar_csat.json": BESKAR_CAMEL,
    "qualtrics-real/get_survey_SV_56icaa9YAafpAqx_cats_nps.json": CATS_CAMEL,
    "qualtrics-real/get_survey_SV_5BJRo2RGHajIlOB_sourdough_matrix.json": SOURDOUGH_CAMEL,
    "qualtrics-real/survey_definition_SV_3gbwq8aJgqPwQDP_beskar_csat.json": BESKAR_PASCAL,
    "qualtrics-real/survey_definition_qsf_SV_6s93xhVtm1e4j3v.json": API_TEST_PROJECT_PASCAL,
}


def corpus_files() -> list[str]:
    found = [*SHARED_FIXTURES.glob("qualtrics-corpus/qsf/*"), *SHARED_FIXTURES.glob("qualtrics-corpus/api/*"),
             *SHARED_FIXTURES.glob("qualtricstools-real/*.qsf"),
             *SHARED_FIXTURES.glob("qualtrics-real/get_survey_*.json"),
             *SHARED_FIXTURES.glob("qualtrics-real/survey_definition_*.json")]
    return sorted(str(p.relative_to(SHARED_FIXTURES)) for p in found)


def catalog(name: str) -> QuestionCatalog:
    return parse_definition(json.loads((SHARED_FIXTURES / name).read_text(encoding="utf-8-sig")))


def test_the_table_covers_every_definition_in_shared() -> None:
    assert corpus_files() == sorted(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_what_each_real_definition_offers_suggests_and_skips(name: str) -> None:
    expected = TABLE[name]
    found = catalog(name)
    offered = {q.id: q for q in found.questions}
    assert len(found.questions) == len(offered) == expected.offered
    if expected.exact:
        assert set(offered) == set(expected.ids)
    else:
        assert set(expected.ids) <= set(offered), set(expected.ids) - set(offered)
    assert dict(Counter(q.suggested_type for q in found.questions if q.suggested_type)) == expected.suggestions
    for qid, kind in expected.suggested.items():
        assert offered[qid].suggested_type == kind, qid
    for qid, (kind, low, high) in expected.scales.items():
        assert (offered[qid].scale.kind, offered[qid].scale.minimum, offered[qid].scale.maximum) == (kind, low, high)
    reasons = {s.id: s.reason for s in found.skipped}
    assert len(found.skipped) == expected.skipped_total
    for qid, words in expected.skipped.items():
        assert words in reasons.get(qid, ""), (qid, reasons.get(qid))
    assert not set(reasons) & set(offered)
