"""The link the room answers on, and the app's relay of the embedded sandbox's survey form.

A survey's anonymous link lives on its brand's host, not on the API host: ``{BrandBaseURL}/jfe/form/{SurveyID}``
(``BrandBaseURL`` from the survey definition, else ``https://{brandId}.qualtrics.com`` from whoami). The embedded
sandbox listens on loopback only, so its form is served under the app's own URL (``{PULSE_URL}/jfe/form/…``,
relayed by :func:`relay_survey_form`): a phone reaches it whenever it can reach the app.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field

import requests

from workspace.config import Settings
from workspace.connection import open_client
from workspace.errors import WorkspaceError
from qualtrics.errors import QualtricsError

log = logging.getLogger(__name__)

FORM_PATH = re.compile(r"/jfe/form/(SV_[A-Za-z0-9]+)(/thanks)?")
RELAY_TIMEOUT = 15.0
_PASSED_HEADERS = ("content-type", "location", "cache-control", "x-frame-options", "content-security-policy", "allow")
_brand_hosts: dict[tuple[str, str], str] = {}
_brand_lock = threading.Lock()


def _brand_host(settings: Settings, survey_id: str) -> str | None:
    """The survey's public-link host, asked of Qualtrics once per process and survey (None: not reachable now)."""
    key = (settings.qualtrics_base_url or "", survey_id)
    with _brand_lock:
        if key in _brand_hosts:
            return _brand_hosts[key]
    try:
        with open_client(settings) as client:
            host = client.brand_base_url(survey_id)
    except (QualtricsError, WorkspaceError, OSError) as exc:
        log.info("brand host of %s unknown for now: %s", survey_id, exc)
        return None
    if host:
        with _brand_lock:
            _brand_hosts[key] = host
    return host


def public_link(settings: Settings, survey_id: str) -> str:
    """The survey's anonymous link as a phone opens it (what the QR code encodes)."""
    if settings.uses_sandbox:
        return f"{settings.pulse_url}/jfe/form/{survey_id}"
    base = _brand_host(settings, survey_id) or settings.qualtrics_base_url or ""
    return f"{base}/jfe/form/{survey_id}"


def short_link(link: str) -> str:
    """The link without its scheme: what people type when they cannot scan."""
    return link.split("://", 1)[-1]


@dataclass(frozen=True)
class Relayed:
    status_code: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def relay_survey_form(settings: Settings, method: str, path: str, query: str, body: bytes,
                      content_type: str) -> Relayed:
    """Pass a survey-link request (form, submission, thank-you page) to the embedded sandbox and its answer
    back, redirects included (their locations are paths, so they stay on the app's host)."""
    if not settings.is_sandbox or not FORM_PATH.fullmatch(path):
        return Relayed(404, b"Not found", {"content-type": "text/plain; charset=utf-8"})
    target = f"{settings.qualtrics_base_url}{path}" + (f"?{query}" if query else "")
    try:
        answer = requests.request(method, target, data=body or None, allow_redirects=False, timeout=RELAY_TIMEOUT,
                                  headers={"Content-Type": content_type} if content_type else {})
    except requests.RequestException:
        return Relayed(502, b"The survey is not reachable right now; try again in a moment.",
                       {"content-type": "text/plain; charset=utf-8"})
    headers = {k.lower(): v for k, v in answer.headers.items() if k.lower() in _PASSED_HEADERS}
    if "location" in headers and headers["location"].startswith(str(settings.qualtrics_base_url)):
        headers["location"] = headers["location"][len(str(settings.qualtrics_base_url)):] or "/"
    return Relayed(answer.status_code, answer.content, headers)
