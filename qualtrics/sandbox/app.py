"""`Sandbox`: a Qualtrics API v3 counterpart served from a daemon thread on 127.0.0.1.

It composes the catalog of surveys, the deterministic response store, the OAuth server, the exporter and the
fault switches, and exposes ground truth (`expected_answers`, `known_scores`) computed from the same generator
that feeds the exports.
"""

from __future__ import annotations

import collections
import datetime as dt
import os
import secrets
import shutil
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .catalog import ACCOUNT_USER_ID_SUFFIX, Catalog, SurveySpec, stable_id
from .events import EventSubscriptions, new_response_ids
from .export import ContinuationTokens, Exporter
from .faults import FaultCounter, Faults
from .generator import ResponseStore, answer_slots
from .imported import LoadProblem, load_definitions
from .oauth import AuthorizationServer, Client
from .server import CONTROL_HEADER, SandboxHTTPServer
from .survey_link import LINK_EMBEDDED_DEFAULTS, read_answers

DEMO_CLIENT_ID = "journey-pulse-sandbox"
DEMO_CLIENT_SECRET = "sandbox-client-secret-not-for-production"
DEMO_API_TOKEN = "SandboxApiToken0123456789abcdefghijKLMNO"  # 40 alphanumerics, like real tokens
DEMO_CLIENT_NAME = "Journey Pulse"
DEFAULT_REDIRECT_URI = "http://localhost:8501/api/qualtrics/callback"
ROLES = ("nps", "csat", "ces", "matrix", "loop", "carry")


def default_redirect_uri(env: dict[str, str] | None = None) -> str:
    """design.md §3: the redirect URI derives from PULSE_URL."""
    pulse_url = (env if env is not None else os.environ).get("PULSE_URL") or "http://localhost:8501"
    return pulse_url.rstrip("/") + "/api/qualtrics/callback"


@dataclass
class RequestRecord:
    method: str
    path: str
    status: int  # 0 = connection dropped


class Sandbox:
    """A running (after `start`) Qualtrics-compatible server with demo data and fault switches."""

    client_id = DEMO_CLIENT_ID
    client_secret = DEMO_CLIENT_SECRET
    api_token = DEMO_API_TOKEN

    def __init__(
        self,
        seed: int = 7,
        responses: int | None = None,
        live: bool = False,
        redirect_uris: tuple[str, ...] | list[str] = (DEFAULT_REDIRECT_URI,),
        live_interval: float = 3.0,
        today: dt.date | None = None,
        definitions: str | os.PathLike[str] | None = None,
    ) -> None:
        """``definitions``: a folder whose ``*.qsf`` files become surveys of the account (`imported.py`); files
        that cannot be read are listed in ``definition_problems`` and left out. A missing folder raises
        FileNotFoundError."""
        day = today or dt.datetime.now(dt.timezone.utc).date()
        self.anchor = dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)
        self.seed = seed
        self.catalog = Catalog.build(seed, self.anchor, responses)
        self.definition_problems: list[LoadProblem] = []
        if definitions is not None:
            loaded, self.definition_problems = load_definitions(definitions, seed, self.anchor,
                                                                {s.id for s in self.catalog.surveys})
            self.catalog.add_after_demo(loaded)
        self.store = ResponseStore(seed, self.anchor)
        self.faults = Faults()
        self.fault_counter = FaultCounter(self.faults)
        self.oauth = AuthorizationServer(self.faults, seed=seed)
        self.oauth.clients[DEMO_CLIENT_ID] = Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_CLIENT_NAME,
                                                    list(redirect_uris))
        self.workdir = tempfile.mkdtemp(prefix="qualtrics-sandbox-")
        self.exporter = Exporter(self.store, ContinuationTokens(seed), self.workdir)
        self.live = live
        self.live_interval = live_interval
        self.requests: collections.deque[RequestRecord] = collections.deque(maxlen=10_000)
        self.user_id = stable_id("UR_", seed, ACCOUNT_USER_ID_SUFFIX)
        # Required on every /_sandbox/* request (header X-Sandbox-Secret); new for every Sandbox object.
        self.control_secret = secrets.token_urlsafe(24)
        self.account_display_name = "Dana Demo (dana.demo@example.com)"
        self.events = EventSubscriptions(seed, self.whoami()["brandId"])
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop_live = threading.Event()
        self._live_thread: threading.Thread | None = None
        self.base_url = ""

    # ------------------------------------------------------------ lifecycle

    def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve in a daemon thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        self._server = SandboxHTTPServer((host, port), self)
        self.base_url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="qualtrics-sandbox", daemon=True)
        self._thread.start()
        if self.live:
            self._live_thread = threading.Thread(target=self._live_loop, name="qualtrics-sandbox-live", daemon=True)
            self._live_thread.start()
        return self.base_url

    def stop(self) -> None:
        self._stop_live.set()
        self.events.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> "Sandbox":
        if self._server is None:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def control_headers(self) -> dict[str, str]:
        """Headers a /_sandbox/* control request needs: the secret and the JSON content type."""
        return {CONTROL_HEADER: self.control_secret, "Content-Type": "application/json"}

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def env(self) -> dict[str, str]:
        """The four settings of design.md §4, ready for os.environ or a subprocess."""
        return {
            "QUALTRICS_BASE_URL": self.base_url,
            "QUALTRICS_CLIENT_ID": self.client_id,
            "QUALTRICS_CLIENT_SECRET": self.client_secret,
            "QUALTRICS_API_TOKEN": self.api_token,
        }

    def add_redirect_uri(self, uri: str) -> None:
        uris = self.oauth.clients[DEMO_CLIENT_ID].redirect_uris
        if uri not in uris:
            uris.append(uri)

    def reset_faults(self) -> None:
        self.fault_counter.reset()

    @property
    def faults_fired(self) -> dict[str, int]:
        """How many times each kind of fault fired since the last reset."""
        return dict(self.fault_counter.fired)

    def export_starts(self, survey_id: str) -> list[float]:
        """When each export of ``survey_id`` was started (unix seconds, in order): how many exports ran, and how
        far apart, whoever started them."""
        with self.exporter._lock:
            jobs = list(self.exporter.jobs.values())
        return sorted(job.started_at for job in jobs if job.survey.id == survey_id)

    def record(self, method: str, path: str, status: int) -> None:
        self.requests.append(RequestRecord(method, path.split("?", 1)[0], status))

    # ------------------------------------------------------------ data

    @property
    def survey_ids(self) -> dict[str, str]:
        return {role: self.catalog.by_role(role).id for role in ROLES}

    @property
    def surveys(self) -> dict[str, str]:
        return self.survey_ids

    @property
    def imported(self) -> list[SurveySpec]:
        """The surveys loaded from ``definitions``, in file-name order."""
        return [s for s in self.catalog.surveys if s.role == "imported"]

    def survey(self, survey: str) -> SurveySpec:
        """A survey by role ("nps"...) or id."""
        spec = self.catalog.get(survey) if survey.startswith("SV_") else self.catalog.by_role(survey)
        if spec is None:
            raise KeyError(survey)
        return spec

    def add_responses(self, survey: str, count: int, when: dt.datetime | None = None) -> int:
        """Record ``count`` new responses now (what --live does) and publish them; returns the new total."""
        spec = self.survey(survey)
        total = self.store.add_live(spec, count, when)
        self.events.publish(spec.id, new_response_ids(self.store, spec, total - count), when)
        return total

    def survey_link(self, survey: str) -> str:
        """The survey's anonymous link (what Live mode's QR code shows): ``{base_url}/jfe/form/SV_…``."""
        return f"{self.base_url}/jfe/form/{self.survey(survey).id}"

    def record_response(self, survey: str, answers: Mapping[str, str], embedded: Mapping[str, str] | None = None,
                        when: dt.datetime | None = None) -> str:
        """Record one finished response with exactly these answers (what the survey link does); returns its id.

        ``answers`` is keyed by export slot: a rating (QID1, matrix row QID1_3) takes a choice id as the survey
        definition lists it, an open-text slot (QID2_TEXT) the text; leave a slot out to skip it.
        ``embedded`` defaults to region "Live session", channel "qr-code". Raises
        `qualtrics.sandbox.survey_link.AnswerError` (a ValueError) for answers the survey cannot take."""
        spec = self.survey(survey)
        given = read_answers(spec, answers)
        fields = {**LINK_EMBEDDED_DEFAULTS, **(embedded or {})}
        response_id = self.store.add_recorded(spec, given.choices, given.texts,
                                              {k: v for k, v in fields.items() if k in spec.embedded_fields}, when)
        self.events.publish(spec.id, [response_id], when)
        return response_id

    def _live_loop(self) -> None:
        turn = 0
        while not self._stop_live.wait(self.live_interval):
            for role in ROLES:
                self.add_responses(role, 1 + (turn + ROLES.index(role)) % 3)
            turn += 1

    def whoami(self) -> dict[str, Any]:
        return {
            "brandId": "journeypulse",
            "userId": self.user_id,
            "userName": "dana.demo@journeypulse",
            "accountType": "UT_BRANDADMIN",
            "firstName": "Dana",
            "lastName": "Demo",
            "email": "dana.demo@example.com",
            "datacenter": "sandbox",
        }

    def user(self, user_id: str) -> dict[str, Any] | None:
        if user_id != self.user_id:
            return None
        created = self.anchor - dt.timedelta(days=900)
        return {
            "id": self.user_id,
            "divisionId": None,
            "username": "dana.demo@journeypulse",
            "firstName": "Dana",
            "lastName": "Demo",
            "userType": "UT_BRANDADMIN",
            "organizationId": "journeypulse",
            "language": "en",
            "email": "dana.demo@example.com",
            "accountCreationDate": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "accountExpirationDate": None,
            "accountStatus": "active",
            "lastLoginDate": self.anchor.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "timeZone": "UTC",
            "responseCounts": {"auditable": 0, "generated": 0, "deleted": 0},
        }

    def expected_answers(self, survey_id: str, question_id: str) -> pd.DataFrame:
        """Ground truth: responseId, recordedDate (UTC), value (the exported value as str) of every answered
        response, for a question id as exports key it (QID1, QID1_3 for a matrix row, QID2_TEXT, QID1_NPS_GROUP)."""
        survey = self.survey(survey_id)
        slot = question_id[: -len("_NPS_GROUP")] if question_id.endswith("_NPS_GROUP") else question_id
        owner = next((q for q in survey.questions if slot in answer_slots(q) or q.qid == slot), None)
        if owner is None:
            raise KeyError(f"{question_id} is not a question of {survey.id}")
        if owner.kind == "text":
            slot = answer_slots(owner)[0]
        elif slot not in answer_slots(owner):
            raise KeyError(f"{question_id} is a matrix; ask for one row, e.g. {answer_slots(owner)[0]}")
        if owner.kind == "text":
            table = list(self.store.vocabulary(survey)[slot])
        elif question_id.endswith("_NPS_GROUP"):
            table = ["1"] * 7 + ["2"] * 2 + ["3"] * 2
        else:
            table = [c.recode for c in owner.choices]
        frames = []
        for block in self.store.blocks(survey):
            index = block.answers[slot]
            answered = index >= 0
            frames.append(pd.DataFrame({
                "responseId": block.response_id[answered],
                "recordedDate": pd.to_datetime(block.recorded_ms[answered], unit="ms", utc=True),
                "value": pd.Series(table, dtype=object).to_numpy()[index[answered]],
            }))
        if not frames:
            return pd.DataFrame({"responseId": [], "recordedDate": pd.to_datetime([], utc=True), "value": []})
        return pd.concat(frames, ignore_index=True)

    def known_scores(self) -> dict[str, float]:
        """The demo surveys' scores, computed independently with plain pandas (see ground_truth.py)."""
        from .ground_truth import known_scores

        return known_scores(self)

    def known_score(self, survey: str, question_id: str, metric_type: str) -> float:
        """The score of any answer column (``QID15``, ``QID1_3``, ``2_QID1``) as an nps/csat/ces metric, with
        the survey's not-an-answer choice excluded (ground_truth.py)."""
        from .ground_truth import known_score

        return known_score(self, survey, question_id, metric_type)
