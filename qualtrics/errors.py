"""Typed errors of the Qualtrics client.

Every error's ``str()`` is one sentence a user can act on (the app shows it as is, the CLI prints it as its
one-line reason). Messages never contain tokens or secrets.
"""

from __future__ import annotations


class QualtricsError(Exception):
    """Base class: anything that went wrong talking to Qualtrics or reading one of its exports."""


class ReauthorizationRequired(QualtricsError):
    """The stored OAuth grant cannot be refreshed any more (revoked, expired, or no refresh token)."""

    def __init__(self, message: str = (
        "Qualtrics no longer accepts the stored authorization; reauthorize the integration "
        "(Settings > Integrations > Reauthorize).")) -> None:
        super().__init__(message)


class AuthenticationFailed(QualtricsError):
    """Credentials were rejected outright (wrong API token, wrong client id/secret)."""


class InsecureTransport(QualtricsError):
    """A plain-http URL that is not on this machine: tokens would travel in clear text."""


class PermissionDenied(QualtricsError):
    """HTTP 403: the account lacks a Qualtrics permission or scope for this call."""


class NotFound(QualtricsError):
    """HTTP 404: the survey, export job or file does not exist (or is not visible to this account)."""


class RateLimited(QualtricsError):
    """HTTP 429 persisted after the retries (brand-wide request limit)."""


class ServerUnavailable(QualtricsError):
    """5xx or dropped connections persisted after the retries."""


class ExportFailed(QualtricsError):
    """The export job reported status "failed"."""


class CorruptExport(QualtricsError):
    """The export file could not be read (broken zip or unreadable content), even after one fresh download."""


class ExportTimeout(QualtricsError):
    """The export job did not complete before the deadline."""


class UnsupportedQuestion(QualtricsError):
    """A question type the client cannot track (kept as a reason on SkippedQuestion, raised on explicit use)."""
