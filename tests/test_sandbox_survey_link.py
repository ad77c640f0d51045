"""The anonymous survey link over real HTTP: a person opens ``/jfe/form/SV_…`` (where Live mode's QR code leads),
answers, and the answer is exactly what the next continuation export, `expected_answers` and `known_scores` hold."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html.parser
import urllib.parse

import pytest
import requests

from qualtrics.sandbox import Sandbox
from qualtrics.sandbox.survey_link import AnswerError
from tests.test_sandbox_export import export, frame_of, unzip

pytestmark = pytest.mark.engine_independent  # opens no store: deselected on PostgreSQL (tests/engines.py)


class SurveyForm(html.parser.HTMLParser):
    """What a browser sees of the form: its action, radio groups (name -> values), text boxes, hidden fields,
    links and the visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.radios: dict[str, list[str]] = {}
        self.textareas: list[str] = []
        self.hidden: dict[str, str] = {}
        self.links: dict[str, str] = {}
        self.text: list[str] = []
        self._link: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.action = a["action"]
        elif tag == "input" and a.get("type") == "radio":
            self.radios.setdefault(a["name"], []).append(a["value"])
        elif tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a["value"]
        elif tag == "textarea":
            self.textareas.append(a["name"])
        elif tag == "a":
            self._link = a["href"]

    def handle_data(self, data):
        if self._link is not None:
            self.links[data.strip()] = self._link
            self._link = None
        if data.strip():
            self.text.append(" ".join(data.split()))


def open_form(url: str) -> tuple[SurveyForm, requests.Response]:
    page = requests.get(url)
    assert page.status_code == 200 and page.headers["Content-Type"] == "text/html; charset=utf-8"
    form = SurveyForm()
    form.feed(page.text)
    return form, page


def submit(sb: Sandbox, form: SurveyForm, answers: dict[str, str]) -> requests.Response:
    return requests.post(urllib.parse.urljoin(sb.base_url, form.action), data={**form.hidden, **answers})


def continuation(sb: Sandbox, role: str) -> str:
    result, _, _ = export(sb, role, questionIds=["QID1"], allowContinuation=True)
    return result["continuationToken"]


def export_since(sb: Sandbox, role: str, token: str, **body):
    _, content, _ = export(sb, role, continuationToken=token, **body)
    return frame_of(unzip(content)[1])


def test_each_demo_survey_has_a_form_with_its_scale_and_open_text(fresh_sandbox):
    expected = {
        "nps": {"QID1": [str(v) for v in range(11)]},
        "csat": {"QID1": ["1", "2", "3", "4", "5", "8"]},
        "ces": {"QID1": [str(v) for v in range(1, 8)]},
        "matrix": {f"QID1_{row}": ["1", "2", "3", "4", "5"] for row in range(1, 6)},
    }
    for role, radios in expected.items():
        form, page = open_form(fresh_sandbox.survey_link(role))
        assert form.radios == radios and form.textareas == ["QID2_TEXT"]
        assert form.action == f"/jfe/form/{fresh_sandbox.survey_ids[role]}"
        assert 'name="viewport"' in page.text and "<script" not in page.text
        assert form.hidden == {"region": "Live session", "channel": "qr-code"}
    csat_text = " ".join(open_form(fresh_sandbox.survey_link("csat"))[0].text)
    assert "Overall, how satisfied were you with our support team today?" in csat_text
    assert "Very dissatisfied" in csat_text and "N/A" in csat_text


def test_question_html_is_shown_as_escaped_plain_text(fresh_sandbox):
    sb = fresh_sandbox
    form, page = open_form(sb.survey_link("nps"))
    assert "How likely are you to recommend Journey Pulse to a friend or colleague?" in form.text
    assert "<strong>" not in page.text and "<div>How" not in page.text

    nps = sb.survey("nps")
    question = dataclasses.replace(nps.questions[0], html="Rate &lt;img src=x onerror=alert(1)&gt; <script>x</script>")
    hostile = dataclasses.replace(nps, id="SV_hostileQuestion1", name='<b>Pulse</b> "check"',
                                  questions=(question, nps.questions[1]))
    sb.catalog.surveys.append(hostile)
    form, page = open_form(f"{sb.base_url}/jfe/form/{hostile.id}")
    assert "<img" not in page.text and "<script" not in page.text and "<b>Pulse" not in page.text
    assert "Rate &lt;img src=x onerror=alert(1)&gt; x" in page.text
    assert "Rate <img src=x onerror=alert(1)> x" in form.text  # what the person reads: the text, not markup


def test_an_nps_answer_is_exactly_what_the_next_continuation_export_returns(fresh_sandbox):
    sb = fresh_sandbox
    token = continuation(sb, "nps")
    before = sb.expected_answers(sb.survey_ids["nps"], "QID1")["value"].astype(int)
    form, _ = open_form(sb.survey_link("nps"))
    comment = 'Loved the "live" wall, café crème & <b>all</b>\nsecond line'

    thanks = submit(sb, form, {"QID1": "10", "QID2_TEXT": comment})
    assert thanks.status_code == 200 and thanks.history[0].status_code == 303  # reloading records nothing twice
    page = SurveyForm()
    page.feed(thanks.text)
    assert "Thank you" in page.text
    assert urllib.parse.urlsplit(page.links["Answer again"]).path == form.action

    since = export_since(sb, "nps", token, embeddedDataIds=["region", "channel"])
    assert len(since) == 1
    row = since.iloc[0]
    assert (row["Q1"], row["Q1_NPS_GROUP"], row["Q2"]) == ("10", "3", comment)
    assert (row["Finished"], row["Progress"], row["DistributionChannel"]) == ("1", "100", "anonymous")
    assert (row["region"], row["channel"]) == ("Live session", "qr-code")
    recorded = dt.datetime.fromisoformat(row["RecordedDate"]).replace(tzinfo=dt.timezone.utc)
    assert abs(dt.datetime.now(dt.timezone.utc) - recorded) < dt.timedelta(minutes=1)

    truth = sb.expected_answers(sb.survey_ids["nps"], "QID1")
    assert truth.iloc[-1][["responseId", "value"]].tolist() == [row["ResponseId"], "10"]
    texts = sb.expected_answers(sb.survey_ids["nps"], "QID2_TEXT")
    assert texts.iloc[-1]["value"] == comment
    promoters, detractors = (before >= 9).sum() + 1, (before <= 6).sum()
    assert sb.known_scores()["nps"] == pytest.approx((promoters - detractors) / (len(before) + 1) * 100)


def test_a_matrix_answer_rates_each_row_and_keeps_the_links_embedded_data(fresh_sandbox):
    sb = fresh_sandbox
    token = continuation(sb, "matrix")
    form, _ = open_form(sb.survey_link("matrix") + "?region=Berlin%20meetup&channel=poster")
    assert form.hidden == {"region": "Berlin meetup", "channel": "poster"}
    submit(sb, form, {"QID1_1": "5", "QID1_3": "4", "QID1_4": "1", "QID2_TEXT": ""}).raise_for_status()

    row = export_since(sb, "matrix", token, embeddedDataIds=["region", "channel"]).iloc[0]
    assert [row[f"Q1_{r}"] for r in range(1, 6)] == ["5", "", "4", "1", ""]
    assert (row["Q2"], row["region"], row["channel"]) == ("", "Berlin meetup", "poster")
    matrix = sb.survey_ids["matrix"]
    last = sb.expected_answers(matrix, "QID1_4").iloc[-1]
    assert (last["responseId"], last["value"]) == (row["ResponseId"], "1")
    assert row["ResponseId"] not in set(sb.expected_answers(matrix, "QID1_2")["responseId"])
    assert row["ResponseId"] not in set(sb.expected_answers(matrix, "QID2_TEXT")["responseId"])


def test_csat_not_applicable_exports_its_recode_and_a_required_question_is_enforced(fresh_sandbox):
    sb = fresh_sandbox
    csat = sb.survey("csat")
    form, _ = open_form(sb.survey_link("csat"))
    refused = submit(sb, form, {"QID2_TEXT": "forgot the rating"})
    assert refused.status_code == 400 and "Please answer" in refused.text
    assert "forgot the rating" in refused.text  # what was typed is not lost
    assert submit(sb, form, {"QID1": "42"}).status_code == 400
    assert sb.store.total(csat) == csat.responses  # nothing recorded by either

    assert submit(sb, form, {"QID1": "8"}).status_code == 200
    assert sb.expected_answers(csat.id, "QID1").iloc[-1]["value"] == "99"


def test_unknown_or_inactive_surveys_are_a_404_page(fresh_sandbox):
    inactive = next(s for s in fresh_sandbox.catalog.surveys if not s.is_active)
    for path in ("/jfe/form/SV_doesNotExist0000", f"/jfe/form/{inactive.id}", "/jfe/form/", "/jfe/form/<x>"):
        response = requests.get(fresh_sandbox.base_url + path)
        assert response.status_code == 404, path
        assert response.headers["Content-Type"].startswith("text/html") and "Survey not found" in response.text
    posted = requests.post(f"{fresh_sandbox.base_url}/jfe/form/SV_doesNotExist0000", data={"QID1": "10"})
    assert posted.status_code == 404


def test_record_response_refuses_answers_the_survey_cannot_take(fresh_sandbox):
    with pytest.raises(AnswerError, match="QID9"):
        fresh_sandbox.record_response("nps", {"QID9": "1"})
    with pytest.raises(AnswerError, match="not one of the choices"):
        fresh_sandbox.record_response("ces", {"QID1": "0"})
    response_id = fresh_sandbox.record_response("ces", {"QID1": "7"}, embedded={"region": "EMEA"})
    truth = fresh_sandbox.expected_answers(fresh_sandbox.survey_ids["ces"], "QID1").iloc[-1]
    assert (truth["responseId"], truth["value"]) == (response_id, "7")


def test_the_link_needs_no_credentials_and_is_untouched_by_api_faults(fresh_sandbox):
    fresh_sandbox.faults.server_error_next, fresh_sandbox.faults.rate_limit_every = 3, 1
    form, _ = open_form(fresh_sandbox.survey_link("ces"))
    assert submit(fresh_sandbox, form, {"QID1": "6"}).status_code == 200
