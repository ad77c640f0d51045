"""QualtricsClient: the one object the workspace and the CLI use to talk to Qualtrics API v3.

Every request goes through :meth:`QualtricsClient._send`: secure-transport check, auth headers (refreshing an
OAuth token ahead of expiry), retries for 429/5xx/dropped connections (urllib3 Retry in the session's adapter),
one credential recovery after a 401, and the mapping of failures onto the typed errors of ``qualtrics.errors``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from qualtrics.auth import (
    ApiTokenCredentials,
    ClientCredentials,
    Credentials,
    OAuthApp,
    OAuthCredentials,
    TokenCallback,
)
from qualtrics.errors import NotFound, PermissionDenied, QualtricsError
from qualtrics.export import SYNC_FORMAT, Export, JobCallback, PollPolicy
from qualtrics.models import (
    DEFAULT_BATCH_ROWS, Account, EventSubscription, PermissionCheck, Progress, Question, QuestionCatalog, ResponseBatch,
    Survey)
from qualtrics.permissions import check_permissions, permission_needed
from qualtrics.settings import normalise_base_url
from qualtrics.transport import RetryPolicy, ensure_secure_transport, raise_for_status, retrying_session, send

_MAX_PAGES = 10_000  # a guard against a server that keeps answering with the same nextPage


class QualtricsClient:
    """Qualtrics API v3 over ``{base_url}/API/v3`` with the given credentials."""

    def __init__(self, base_url: str, credentials: Credentials, *, retry: RetryPolicy = RetryPolicy(),
                 poll: PollPolicy = PollPolicy()) -> None:
        self.base_url = normalise_base_url(base_url)
        ensure_secure_transport(self.base_url)
        self.api_url = f"{self.base_url}/API/v3"
        self.credentials = credentials
        self.retry = retry
        self.poll = poll
        self._session = retrying_session(retry)

    # -- constructors -------------------------------------------------------------------------------------
    @classmethod
    def with_api_token(cls, base_url: str, api_token: str, **options: Any) -> "QualtricsClient":
        return cls(base_url, ApiTokenCredentials(api_token), **options)

    @classmethod
    def with_oauth(cls, app: OAuthApp, token: Mapping[str, Any], on_token: TokenCallback | None = None,
                   **options: Any) -> "QualtricsClient":
        """Authorization-code tokens; ``on_token`` receives every refreshed token so the caller can persist it."""
        policy = options.get("retry", RetryPolicy())
        return cls(app.base_url, OAuthCredentials(app, token, on_token, policy), **options)

    @classmethod
    def with_client_credentials(cls, app: OAuthApp, on_token: TokenCallback | None = None,
                                token: Mapping[str, Any] | None = None, **options: Any) -> "QualtricsClient":
        policy = options.get("retry", RetryPolicy())
        return cls(app.base_url, ClientCredentials(app, token, on_token, policy), **options)

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> "QualtricsClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"QualtricsClient({self.base_url!r}, {self.credentials!r})"

    # -- HTTP ---------------------------------------------------------------------------------------------
    def _url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            # Follow server-given links (nextPage) on our own origin only, so tokens never go elsewhere.
            parts = urlsplit(path_or_url)
            base = urlsplit(self.base_url)
            return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
        return f"{self.api_url}/{path_or_url.lstrip('/')}"

    def _send(self, method: str, path: str, what: str, accept: str = "application/json",
              **kwargs: Any) -> requests.Response:
        url = self._url(path)
        for attempt in range(2):
            headers = self.credentials.headers()
            response = send(self._session, method, url, what, timeout=self.retry.timeout,
                            headers={**headers, "Accept": accept}, **kwargs)
            if response.status_code != 401:
                break
            recovered = attempt == 0 and self.credentials.recover_from_401(response, headers)
            response.close()
            if not recovered:
                raise self.credentials.unauthorized(what)
        raise_for_status(response, what, permission_needed(urlsplit(url).path))
        return response

    def _json(self, response: requests.Response, what: str) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise QualtricsError(f"Qualtrics sent an unreadable answer for {what}; try again.") from None
        result = body.get("result") if isinstance(body, Mapping) else None
        if not isinstance(result, Mapping):
            raise QualtricsError(f"Qualtrics' answer for {what} has no result; try again.")
        return dict(result)

    def get_json(self, path: str, what: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return self._json(self._send("GET", path, what, params=params), what)

    def post_json(self, path: str, what: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self._json(self._send("POST", path, what, json=dict(body)), what)

    def delete(self, path: str, what: str) -> None:
        """A DELETE whose answer carries only ``meta`` (Qualtrics sends no ``result`` for deletions)."""
        self._send("DELETE", path, what).close()

    def stream(self, path: str, what: str) -> requests.Response:
        """A streamed GET (export files: a zip, not JSON)."""
        return self._send("GET", path, what, accept="*/*", stream=True)

    # -- API ----------------------------------------------------------------------------------------------
    def whoami(self) -> Account:
        r = self.get_json("whoami", "your Qualtrics account")
        return Account(
            user_id=str(r.get("userId") or ""), user_name=str(r.get("userName") or ""),
            first_name=str(r.get("firstName") or ""), last_name=str(r.get("lastName") or ""),
            email=str(r.get("email") or ""), datacenter=str(r.get("datacenter") or ""),
            brand_id=str(r.get("brandId") or ""), account_type=str(r.get("accountType") or ""))

    def permissions(self, account: Account | None = None) -> PermissionCheck:
        """The six permissions the product needs, read from ``GET /users/{userId}`` (see qualtrics.permissions)."""
        account = account or self.whoami()
        user = self.get_json(f"users/{account.user_id}", "your Qualtrics user permissions")
        return check_permissions(user.get("permissions"))

    def _elements(self, path: str, what: str) -> Iterator[Mapping[str, Any]]:
        """The ``elements`` of a paged list, following ``nextPage`` across all pages."""
        seen: set[str] = set()
        page: str | None = path
        for _ in range(_MAX_PAGES):
            if page is None or page in seen:
                break
            seen.add(page)
            result = self.get_json(page, what)
            yield from result.get("elements") or []
            page = result.get("nextPage") or None

    def surveys(self) -> list[Survey]:
        """Every survey the account can see, across all pages."""
        return [Survey(id=str(s.get("id") or ""), name=str(s.get("name") or ""),
                       owner_id=str(s.get("ownerId") or ""), is_active=bool(s.get("isActive")),
                       last_modified=str(s.get("lastModified") or s.get("lastModifiedDate") or ""))
                for s in self._elements("surveys", "the survey list")]

    def definition(self, survey_id: str) -> dict[str, Any]:
        """The survey definition: ``/survey-definitions/{id}`` (PascalCase), falling back to the older
        ``/surveys/{id}`` (camelCase) when the first is refused or missing."""
        what = f"survey {survey_id}"
        try:
            return self.get_json(f"survey-definitions/{survey_id}", what)
        except (NotFound, PermissionDenied) as first:
            try:
                return self.get_json(f"surveys/{survey_id}", what)
            except (NotFound, PermissionDenied):
                raise first from None

    def question_catalog(self, survey_id: str) -> QuestionCatalog:
        """Trackable questions plus the skipped ones with their reasons."""
        from qualtrics.definitions import parse_definition  # a sync reads the stored definition: most never parse one

        return parse_definition(self.definition(survey_id))

    def questions(self, survey_id: str) -> list[Question]:
        return list(self.question_catalog(survey_id).questions)

    def export_responses(self, survey_id: str, question_ids: Sequence[str], *,
                         continuation_token: str | None = None, embedded_data: Sequence[str] = (),
                         progress: Progress | None = None, fmt: str = SYNC_FORMAT,
                         batch_rows: int = DEFAULT_BATCH_ROWS, resume: str | None = None,
                         on_job: JobCallback | None = None) -> Export:
        """An export of ``question_ids`` (``QIDn`` or matrix rows ``QIDn_m``); nothing runs until
        ``Export.batches()`` is iterated. Pass the previous ``continuation_token`` for only new responses;
        ``resume``/``on_job`` continue a job started earlier (see :class:`~qualtrics.export.Export`)."""
        return Export(self, survey_id, question_ids, continuation_token=continuation_token,
                      embedded_data=embedded_data, progress=progress, fmt=fmt, poll=self.poll,
                      batch_rows=batch_rows, resume=resume, on_job=on_job)


    # -- single responses and event subscriptions (push instead of poll) ------------------------------------
    def response(self, survey_id: str, response_id: str, question_ids: Sequence[str],
                 embedded_data: Sequence[str] = ()) -> ResponseBatch:
        """One response (``GET /surveys/{id}/responses/{responseId}``) as a one-row batch shaped exactly like an
        export's, so it is stored by the same code: its ``values`` are an export record's values."""
        what = f"response {response_id} of survey {survey_id}"
        record = self.get_json(f"surveys/{survey_id}/responses/{response_id}", what)
        record.setdefault("responseId", response_id)
        from qualtrics.exportfile import response_batch  # pandas: only when there is a response to read

        return response_batch(record, question_ids, embedded_data)

    def subscribe(self, topics: str, publication_url: str) -> str:
        """Ask Qualtrics to POST a form-encoded event to ``publication_url`` for ``topics``
        (e.g. ``surveyengine.completedResponse.SV_…``); returns the subscription id (``SUB_…``).
        Raises PermissionDenied where the account may not subscribe (a brand administrator's right)."""
        result = self.post_json("eventsubscriptions", f"an event subscription for {topics}",
                                {"topics": topics, "publicationUrl": publication_url, "encrypt": False})
        subscription_id = str(result.get("id") or "")
        if not subscription_id:
            raise QualtricsError("Qualtrics accepted the event subscription but sent no id; try again.")
        return subscription_id

    def subscriptions(self) -> list[EventSubscription]:
        """The brand's event subscriptions this account can see (``GET /eventsubscriptions``)."""
        return [EventSubscription(id=str(s.get("id") or ""), topics=str(s.get("topics") or ""),
                                  publication_url=str(s.get("publicationUrl") or ""),
                                  successful_calls=int(s.get("successfulCalls") or 0))
                for s in self._elements("eventsubscriptions", "the event subscriptions")]

    def unsubscribe(self, subscription_id: str) -> None:
        """Remove an event subscription; one that is already gone counts as removed."""
        try:
            self.delete(f"eventsubscriptions/{subscription_id}", f"event subscription {subscription_id}")
        except NotFound:
            pass

    def brand_base_url(self, survey_id: str) -> str | None:
        """The host of the survey's public links (``BrandBaseURL`` in its definition, e.g.
        ``https://acme.qualtrics.com``), else ``https://{brandId}.qualtrics.com`` from whoami."""
        definition = self.definition(survey_id)
        base = definition.get("BrandBaseURL") or definition.get("brandBaseURL")
        if isinstance(base, str) and base.startswith(("https://", "http://")):
            return base.rstrip("/")
        brand = self.whoami().brand_id
        return f"https://{brand}.qualtrics.com" if brand else None
