"""HTTP front of the sandbox: routing, the Qualtrics response envelope, authentication and transport faults.

Plain ``http.server`` (HTTP/1.1, keep-alive, exact Content-Length) so that a dropped connection is nothing more
than closing the socket, and no web framework sits between the tests and the bytes on the wire.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import socket
import urllib.parse
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from qualtrics.permissions import REQUIRED_PERMISSIONS, user_permissions

from .consent import consent_page, error_page
from .definitions import get_survey, list_element, survey_definition, survey_qsf
from .events import SubscriptionError, response_record
from .export import FORMATS, ExportRequest, ExportRequestError
from .oauth import OAuthError, RedirectError
from .survey_link import AnswerError, form_page, link_embedded, not_found_page, thanks_page

if TYPE_CHECKING:
    from .app import Sandbox

PAGE_SIZE = 100
#: Header carrying the sandbox's per-process control secret (``Sandbox.control_secret``) on /_sandbox/*.
CONTROL_HEADER = "X-Sandbox-Secret"
_FILE_CHUNK = 256 * 1024


class ApiError(Exception):
    """An error in Qualtrics' envelope: ``meta.error = {errorMessage, errorCode}``."""

    def __init__(self, status: int, message: str, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def _http_status(status: int) -> str:
    return f"{status} - {HTTPStatus(status).phrase}"


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: "Sandbox") -> None:
        self.sandbox = sandbox
        super().__init__(address, Handler)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes; avoid 40 ms delayed-ACK stalls
    server: SandboxHTTPServer
    server_version = "QualtricsSandbox/1.0"

    # ------------------------------------------------------------ plumbing

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Quiet by default: request lines would leak codes and tokens in query strings into test output."""

    @property
    def sb(self) -> "Sandbox":
        return self.server.sandbox

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.sb.record(self.command, self.path, status)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _ok(self, result: Any) -> None:
        self._json(200, {"result": result, "meta": {"httpStatus": "200 - OK", "requestId": str(uuid.uuid4())}})

    def _api_error(self, err: ApiError) -> None:
        error: dict[str, str] = {"errorMessage": err.message, "errorCode": err.code}
        if err.status >= 500:
            error["instanceId"] = "sandbox-" + uuid.uuid4().hex[:8]
        meta = {"httpStatus": _http_status(err.status), "error": error, "requestId": str(uuid.uuid4())}
        self._json(err.status, {"meta": meta}, err.headers)

    def _html(self, status: int, page: str) -> None:
        # no CSP form-action: Chromium applies it to the redirect that follows Approve, which leaves this origin
        self._send(status, page.encode(), "text/html; charset=utf-8",
                   {"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"})

    def _redirect(self, uri: str, query: dict[str, str]) -> None:
        separator = "&" if urllib.parse.urlsplit(uri).query else "?"
        location = uri + separator + urllib.parse.urlencode(query)
        self._send(302, b"", "text/plain", {"Location": location, "Cache-Control": "no-store"})

    def _drop(self) -> None:
        """Close the socket without a byte of response: what a dying load balancer does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sb.record(self.command, self.path, 0)

    def base_url(self) -> str:
        """Absolute URLs (nextPage) use the host the client called, like the real API does."""
        host = self.headers.get("Host") or self.sb.base_url.split("://", 1)[1]
        return f"http://{host}"

    # ------------------------------------------------------------ dispatch

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items()}
        body = self._body()
        try:
            if path == "/oauth2/auth":
                return self._authorize(method, query, body)
            if path == "/oauth2/token":
                return self._token(method, body)
            if path.startswith("/_sandbox/"):
                return self._control(method, path, body)
            if path.startswith("/API/v3/"):
                return self._api(method, path[len("/API/v3"):], query, body)
            if path.startswith("/jfe/"):
                return self._survey_link(method, path, query, body)
            self._json(404, {"error": "not_found", "error_description": "No such endpoint in the sandbox."})
        except ApiError as err:
            self._api_error(err)

    # ------------------------------------------------------------ OAuth

    def _authorize(self, method: str, query: dict[str, str], body: bytes) -> None:
        oauth = self.sb.oauth
        if method == "GET":
            try:
                pending = oauth.begin(query)
            except RedirectError as err:
                params = {"error": err.error, "error_description": err.description}
                if err.state is not None:
                    params["state"] = err.state
                return self._redirect(err.redirect_uri, params)
            except OAuthError as err:
                return self._html(400, error_page("Authorization request rejected", err.description))
            request_id = oauth.remember(pending)
            client = oauth.clients[pending.client_id]
            page = consent_page(client.name, pending.scope.split(), self.sb.account_display_name, request_id,
                                "/oauth2/auth")
            return self._html(200, page)
        if method == "POST":
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
            decision = form.get("decision")
            if decision not in ("approve", "deny"):
                return self._html(400, error_page("Authorization request rejected", "Choose Approve or Deny."))
            try:
                uri, params = oauth.decide(form.get("request_id", ""), decision == "approve")
            except OAuthError as err:
                return self._html(400, error_page("Authorization request rejected", err.description))
            return self._redirect(uri, params)
        self._json(405, {"error": "invalid_request", "error_description": "Method not allowed."})

    def _token(self, method: str, body: bytes) -> None:
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if method != "POST":
                raise OAuthError("invalid_request", "Use POST.", status=405)
            if not (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                raise OAuthError("invalid_request", "Content-Type must be application/x-www-form-urlencoded.")
            form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace")).items()}
            client = self.sb.oauth.authenticate_client(self._basic_auth(), form)
            self._json(200, self.sb.oauth.token(client, form), headers)
        except OAuthError as err:
            if err.status == 401:
                headers["WWW-Authenticate"] = 'Basic realm="qualtrics-sandbox"'
            self._json(err.status, err.body(), headers)

    def _basic_auth(self) -> tuple[str, str] | None:
        header = self.headers.get("Authorization") or ""
        if not header.lower().startswith("basic "):
            return None
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "Malformed Basic credentials.", status=401) from exc
        return urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)

    # ------------------------------------------------------------ anonymous survey link

    def _survey_link(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        """GET shows the form, POST records the answers and redirects (303) to the thank-you page, so that
        reloading it records nothing twice. Public like Qualtrics' anonymous links: no token, no CSRF check."""
        match = re.fullmatch(r"/jfe/form/(SV_[A-Za-z0-9]+)(/thanks)?", path)
        survey = self.sb.catalog.get(match[1]) if match else None
        if survey is None or not survey.is_active:
            return self._html(404, not_found_page())
        link = f"/jfe/form/{survey.id}"
        thanks_page_requested = bool(match and match[2])
        allowed = ("GET",) if thanks_page_requested else ("GET", "POST")
        if method not in allowed:
            return self._send(405, b"Method not allowed", "text/plain", {"Allow": ", ".join(allowed)})
        if thanks_page_requested:  # "Answer again" keeps the embedded data the link came with
            again = link + "?" + urllib.parse.urlencode(link_embedded(survey, query))
            return self._html(200, thanks_page(survey, again))
        if method == "GET":
            return self._html(200, form_page(survey, link, link_embedded(survey, query)))
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                                             keep_blank_values=True).items()}
        embedded = link_embedded(survey, form)
        answers = {k: v for k, v in form.items() if k not in embedded}
        try:
            self.sb.record_response(survey.id, answers, embedded)
        except AnswerError as err:
            return self._html(400, form_page(survey, link, embedded, err.problems, form))
        thanks = f"{link}/thanks?" + urllib.parse.urlencode(embedded)
        self._send(303, b"", "text/plain", {"Location": thanks, "Cache-Control": "no-store"})

    # ------------------------------------------------------------ sandbox control

    def _control(self, method: str, path: str, body: bytes) -> None:
        # Only whoever started this sandbox may steer it: a per-process secret header (a browser page on
        # another origin cannot send one without a CORS preflight, which this server never approves), and
        # JSON bodies only (a cross-origin "simple" POST can only be text/plain or a form).
        given = self.headers.get(CONTROL_HEADER) or ""
        if not hmac.compare_digest(given.encode(), self.sb.control_secret.encode()):
            return self._json(403, {"error": f"the {CONTROL_HEADER} header is missing or wrong"})
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if method != "GET" and content_type != "application/json":
            return self._json(415, {"error": "control requests must be application/json"})
        if path == "/_sandbox/faults" and method == "GET":
            return self._json(200, self.sb.faults.to_json())
        if path == "/_sandbox/faults" and method == "POST":
            try:
                self.sb.faults.update(json.loads(body or b"{}"))
            except (ValueError, TypeError) as exc:
                return self._json(400, {"error": str(exc)})
            return self._json(200, self.sb.faults.to_json())
        if path == "/_sandbox/reset" and method == "POST":
            self.sb.reset_faults()
            return self._json(200, self.sb.faults.to_json())
        if path == "/_sandbox/live" and method == "POST":
            try:
                payload = json.loads(body or b"{}")
                count = payload.get("count", 1)
                if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= 100_000:
                    raise ValueError("count must be a whole number from 0 to 100000")
                total = self.sb.add_responses(payload.get("survey", "nps"), count)
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                return self._json(400, {"error": str(exc)})
            return self._json(200, {"total": total})
        self._json(404, {"error": "not_found"})

    # ------------------------------------------------------------ API v3

    def _authenticate(self) -> None:
        token = self.headers.get("X-API-TOKEN")
        bearer = self.headers.get("Authorization") or ""
        if token is not None:
            if token != self.sb.api_token:
                raise ApiError(401, "Unrecognized X-API-TOKEN", "AUTH_6.0")
            return
        if bearer.lower().startswith("bearer "):
            if not self.sb.oauth.check_access_token(bearer[7:].strip()):
                raise ApiError(401, "invalid_client", "AUTH_6.0")
            return
        raise ApiError(400, "Expected authorization in headers, but none provided.", "ATP_2")

    def _api(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        fault = self.sb.fault_counter.api_request_fault()
        if fault == "drop":
            return self._drop()
        if fault == "rate_limit":
            raise ApiError(429, "Too many requests. Please try again later.", "RATE_1.0",
                           {"Retry-After": str(self.sb.faults.retry_after)})
        if fault == "server_error":
            status = self.sb.faults.server_error_status
            raise ApiError(status, HTTPStatus(status).phrase, "SERVER_ERROR")
        self._authenticate()
        routes = (
            ("GET", r"/whoami", self._whoami),
            ("GET", r"/users/(?P<user_id>[^/]+)", self._user),
            ("GET", r"/surveys", self._surveys),
            ("GET", r"/surveys/(?P<survey_id>SV_\w+)", self._get_survey),
            ("GET", r"/survey-definitions/(?P<survey_id>SV_\w+)", self._definition),
            ("POST", r"/surveys/(?P<survey_id>SV_\w+)/export-responses", self._export_start),
            ("GET", r"/surveys/(?P<survey_id>SV_\w+)/export-responses/(?P<progress_id>ES_\w+)", self._export_progress),
            ("GET", r"/surveys/(?P<survey_id>SV_\w+)/export-responses/(?P<file_id>[\w-]+)/file", self._export_file),
            ("GET", r"/surveys/(?P<survey_id>SV_\w+)/responses/(?P<response_id>R_\w+)", self._response),
            ("POST", r"/eventsubscriptions", self._subscribe),
            ("GET", r"/eventsubscriptions", self._subscriptions),
            ("DELETE", r"/eventsubscriptions/(?P<subscription_id>SUB_\w+)", self._unsubscribe),
        )
        matched = [(verb, handler, match) for verb, pattern, handler in routes if (match := re.fullmatch(pattern, path))]
        for verb, handler, match in matched:
            if verb == method:
                return handler(query=query, body=body, **match.groupdict())
        if matched:
            raise ApiError(405, "Method not allowed", "GS_1")
        raise ApiError(404, f"Resource not found: {path}", "GS_4")

    # ------------------------------------------------------------ single responses, event subscriptions

    def _response(self, survey_id: str, response_id: str, **_: Any) -> None:
        record = response_record(self.sb.store, self._survey(survey_id), response_id)
        if record is None:
            raise ApiError(404, f"Response {response_id} not found", "GS_4")
        self._send(200, ('{"result":' + record + ',"meta":{"httpStatus":"200 - OK","requestId":"'
                         + str(uuid.uuid4()) + '"}}').encode(), "application/json")

    def _subscribe(self, body: bytes, **_: Any) -> None:
        try:
            self._ok({"id": self.sb.events.create(json.loads(body or b"null"))})
        except json.JSONDecodeError as exc:
            raise ApiError(400, "Request body is not valid JSON", "GS_2") from exc
        except SubscriptionError as exc:
            raise ApiError(exc.status, str(exc), "AUTH_13" if exc.status == 403 else "GS_2") from exc

    def _subscriptions(self, **_: Any) -> None:
        self._ok({"elements": self.sb.events.elements(), "nextPage": None})

    def _unsubscribe(self, subscription_id: str, **_: Any) -> None:
        if not self.sb.events.delete(subscription_id):
            raise ApiError(404, f"Subscription {subscription_id} not found", "GS_4")
        self._json(200, {"meta": {"httpStatus": "200 - OK", "requestId": str(uuid.uuid4())}})

    def _whoami(self, **_: Any) -> None:
        self._ok(self.sb.whoami())

    def _user(self, user_id: str, **_: Any) -> None:
        user = self.sb.user(user_id)
        if user is None:
            raise ApiError(404, "User not found", "GS_4")
        # the guessed shape lives in qualtrics/permissions.py, shared with the client
        missing = set(self.sb.faults.missing_permissions)
        user["permissions"] = user_permissions([p for p in REQUIRED_PERMISSIONS if p not in missing])
        self._ok(user)

    def _surveys(self, query: dict[str, str], **_: Any) -> None:
        try:
            offset = int(query.get("offset", "0"))
        except ValueError as exc:
            raise ApiError(400, "offset must be an integer", "GS_2") from exc
        surveys = self.sb.catalog.visible()
        page = surveys[offset: offset + PAGE_SIZE]
        following = offset + PAGE_SIZE
        next_page = f"{self.base_url()}/API/v3/surveys?offset={following}" if following < len(surveys) else None
        self._ok({"elements": [list_element(s) for s in page], "nextPage": next_page})

    def _survey(self, survey_id: str):
        survey = self.sb.catalog.get(survey_id)
        if survey is None:
            raise ApiError(404, f"Survey {survey_id} not found", "GS_4")
        if not survey.visible:
            raise ApiError(403, "You do not have permission to access this survey. Ask its owner to share it.",
                           "AUTH_13")
        return survey

    def _get_survey(self, survey_id: str, **_: Any) -> None:
        survey = self._survey(survey_id)
        self._ok(get_survey(survey, self.sb.store.total(survey)))

    def _definition(self, survey_id: str, query: dict[str, str], **_: Any) -> None:
        survey = self._survey(survey_id)
        if query.get("format") == "qsf":
            return self._ok(survey_qsf(survey, self.base_url()))
        self._ok(survey_definition(survey, self.base_url()))

    def _export_start(self, survey_id: str, body: bytes, **_: Any) -> None:
        survey = self._survey(survey_id)
        if "Download Survey Results" in self.sb.faults.missing_permissions:
            raise ApiError(403, "You do not have permission to download survey results.", "AUTH_13")
        try:
            request = ExportRequest.parse(json.loads(body or b"null"), survey)
            job = self.sb.exporter.start(survey, request, min_polls=self.sb.faults.export_polls,
                                         fail=self.sb.fault_counter.take("export_fail_next", "export_fail"))
        except json.JSONDecodeError as exc:
            raise ApiError(400, "Request body is not valid JSON", "GS_2") from exc
        except ExportRequestError as exc:
            raise ApiError(400, str(exc), "GS_2") from exc
        self._ok({"progressId": job.progress_id, "percentComplete": 0.0, "status": "inProgress"})

    def _export_progress(self, survey_id: str, progress_id: str, **_: Any) -> None:
        self._survey(survey_id)
        job = self.sb.exporter.job(survey_id, progress_id)
        if job is None:
            raise ApiError(404, f"Export {progress_id} not found", "GS_4")
        self._ok(job.progress())

    def _export_file(self, survey_id: str, file_id: str, **_: Any) -> None:
        self._survey(survey_id)
        job = self.sb.exporter.file(survey_id, file_id)
        if job is None or job.path is None:
            raise ApiError(404, f"File {file_id} not found", "GS_4")
        corrupt = self.sb.fault_counter.take("corrupt_zip_next", "corrupt_zip")
        content_type = "application/zip" if job.request.compress else FORMATS[job.request.format]
        disposition = "attachment; filename=" + urllib.parse.quote_plus(job.download_name)
        with open(job.path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            send = size // 2 if corrupt else size
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Disposition", disposition)
            self.send_header("Content-Length", str(send))
            self.end_headers()
            remaining = send
            while remaining > 0:
                data = handle.read(min(_FILE_CHUNK, remaining))
                if corrupt and remaining == send:
                    data = bytes(b ^ 0x5A for b in data[:64]) + data[64:]  # garble the local header too
                self.wfile.write(data)
                remaining -= len(data)
        self.sb.record("GET", self.path, 200)
