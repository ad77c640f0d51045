"""The seed flow in a real browser on a survey loaded from a real QSF file (PULSE_SANDBOX_DEFINITIONS), whose NPS
question's choices are a JSON list as PHP writes them: Integrations → Enable → Authorize → Approve → Active →
+ Metric → that survey → the NPS question → mapping → Sync data → the sandbox's known score."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from qualtrics.sandbox import Sandbox
from scoring import format_value
from tests.e2e.conftest import running_app
from tests.e2e.flows import add_metric_and_sync, connect_qualtrics
from tests.sandbox_fixtures import shared_fixture
from workspace.bootstrap import SANDBOX_SEED

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
QSF = "qualtrics-corpus/qsf/sp_test_survey_2019_full.qsf"
NPS_QUESTION = "QID15"


@pytest.fixture  # per test, not per module: a rerun after a timeout must start from Inactive again
def qsf_app(tmp_path: Path) -> Iterator[dict]:
    source = shared_fixture(QSF)
    folder = tmp_path / "definitions"
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    (tmp_path / "app-data").mkdir()
    with running_app(tmp_path / "app-data", {"PULSE_SANDBOX_DEFINITIONS": str(folder)}) as app:
        app["definitions"] = folder
        yield app


def test_seed_flow_on_a_real_qsf_with_a_list_shaped_nps_question(qsf_app: dict, page: Page) -> None:
    qsf = json.loads((qsf_app["definitions"] / "sp_test_survey_2019_full.qsf").read_text())
    survey_id = qsf["SurveyEntry"]["SurveyID"]
    nps = next(e["Payload"] for e in qsf["SurveyElements"] if e.get("PrimaryAttribute") == NPS_QUESTION)
    assert nps["Selector"] == "NPS" and isinstance(nps["Choices"], list)  # the shape that used to crash

    truth = Sandbox(seed=SANDBOX_SEED, definitions=qsf_app["definitions"])
    assert truth.survey(survey_id).qsf == qsf  # the app's sandbox serves this very file
    score = format_value("nps", truth.known_score(survey_id, NPS_QUESTION, "nps"))
    respondents = len(truth.expected_answers(survey_id, NPS_QUESTION))

    connect_qualtrics(page, qsf_app["url"])
    add_metric_and_sync(page, survey_id, NPS_QUESTION)
    expect(page.get_by_text(score, exact=True).first).to_be_visible()
    expect(page.get_by_text(re.compile(rf"n = {respondents:,}\b")).first).to_be_visible()
