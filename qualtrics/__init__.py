"""Qualtrics API v3 client for Journey Pulse.

Knows nothing of Streamlit or the database: it turns Qualtrics' HTTP API and export files into plain
dataclasses and pandas frames. The public names are re-exported lazily so that importing a light module
(``qualtrics.permissions`` from the sandbox, say) does not pull in requests-oauthlib and pandas.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "QualtricsSettings": "qualtrics.settings",
    "QualtricsClient": "qualtrics.client",
    "Export": "qualtrics.export",
    "PollPolicy": "qualtrics.export",
    "RetryPolicy": "qualtrics.transport",
    "OAuthCredentials": "qualtrics.auth",
    "refresh_token": "qualtrics.auth",
    "client_credentials_token": "qualtrics.auth",
    "read_export_file": "qualtrics.exportfile",
    "OAuthApp": "qualtrics.auth",
    "AuthorizationRequest": "qualtrics.auth",
    "begin_authorization": "qualtrics.auth",
    "exchange_code": "qualtrics.auth",
    "is_loopback": "qualtrics.auth",
    "Account": "qualtrics.models",
    "Choice": "qualtrics.models",
    "PermissionCheck": "qualtrics.models",
    "Question": "qualtrics.models",
    "QuestionCatalog": "qualtrics.models",
    "ResponseBatch": "qualtrics.models",
    "Scale": "qualtrics.models",
    "SkippedQuestion": "qualtrics.models",
    "Survey": "qualtrics.models",
    "QualtricsError": "qualtrics.errors",
    "ReauthorizationRequired": "qualtrics.errors",
    "AuthenticationFailed": "qualtrics.errors",
    "PermissionDenied": "qualtrics.errors",
    "NotFound": "qualtrics.errors",
    "RateLimited": "qualtrics.errors",
    "ServerUnavailable": "qualtrics.errors",
    "ExportFailed": "qualtrics.errors",
    "CorruptExport": "qualtrics.errors",
    "ExportTimeout": "qualtrics.errors",
    "UnsupportedQuestion": "qualtrics.errors",
    "InsecureTransport": "qualtrics.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'qualtrics' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
