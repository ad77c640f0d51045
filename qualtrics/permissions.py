"""The six Qualtrics permissions Journey Pulse needs, and the (guessed) JSON shape that carries them.

Why one module: the real JSON shape of a user's permissions is not public (qualtrics-api.md section 2,
UNCONFIRMED). Everything that depends on the guess lives here so that one edit fixes client and sandbox alike.

Sandbox engineer: build the ``GET /API/v3/users/{userId}`` response with :func:`user_permissions` (or from
:data:`PERMISSION_KEYS` directly) so both sides share one guess. The client calls ``GET /whoami`` for the
user id, then ``GET /users/{userId}`` and reads ``result["permissions"]`` through :func:`check_permissions`.

Guessed shape (camelCase keys, modelled on the real per-survey collaboration keys such as
``result.downloadSurveyResults`` / ``result.filterSurveyResults``, grouped as the UI groups them; the same
guess as ``qualtrics/sandbox/permissions_shape.py``)::

    "permissions": {
      "controlPanel":   {"accessApi": {"state": "on"}, "downloadSurveyReports": {"state": "on"}},
      "surveyPlatform": {"surveyPlatform": {"state": "on"}, "editSurveys": {"state": "on"},
                         "downloadSurveyResults": {"state": "on"}, "filterSurveyResults": {"state": "off"}}
    }

Reading is deliberately tolerant: a key is looked up at its guessed path first, then anywhere under
``permissions``; a state counts as granted when it is ``"on"``/``"enabled"``/``true``. A permission absent from
the payload counts as missing, so a wrong guess errs towards telling the user to check, never towards silence.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from qualtrics.models import PermissionCheck

#: UI names, in the order the product lists them (TheyDo's integration page, qualtrics-api.md section 2).
REQUIRED_PERMISSIONS: tuple[str, ...] = (
    "Access API",
    "Download Survey Reports",
    "Survey Platform",
    "Edit Surveys",
    "Download Survey Results",
    "Filter Survey Results",
)

#: UI name -> (group, key) under ``permissions``.
PERMISSION_KEYS: dict[str, tuple[str, str]] = {
    "Access API": ("controlPanel", "accessApi"),
    "Download Survey Reports": ("controlPanel", "downloadSurveyReports"),
    "Survey Platform": ("surveyPlatform", "surveyPlatform"),
    "Edit Surveys": ("surveyPlatform", "editSurveys"),
    "Download Survey Results": ("surveyPlatform", "downloadSurveyResults"),
    "Filter Survey Results": ("surveyPlatform", "filterSurveyResults"),
}

_GRANTED_STATES = {"on", "true", "enabled", "yes", "1"}


def user_permissions(granted: Iterable[str] = REQUIRED_PERMISSIONS) -> dict[str, Any]:
    """The ``permissions`` object of a user whose granted UI permissions are ``granted`` (others "off")."""
    granted_set = set(granted)
    unknown = granted_set - set(PERMISSION_KEYS)
    if unknown:
        raise ValueError(f"unknown permission names: {sorted(unknown)}")
    groups: dict[str, dict[str, Any]] = {}
    for name, (group, key) in PERMISSION_KEYS.items():
        groups.setdefault(group, {})[key] = {"state": "on" if name in granted_set else "off"}
    return groups


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, Mapping) or "state" in value or "value" in value


def _is_granted(value: Any) -> bool:
    if isinstance(value, Mapping):
        value = value.get("state", value.get("value"))
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _GRANTED_STATES


def _at_path(permissions: Mapping[str, Any], group: str, key: str) -> Any:
    node: Any = permissions
    for part in (group, key):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _anywhere(node: Any, key: str) -> Any:
    if isinstance(node, Mapping):
        if key in node and _is_leaf(node[key]):
            return node[key]
        for child in node.values():
            found = _anywhere(child, key)
            if found is not None:
                return found
    return None


def check_permissions(permissions: Mapping[str, Any] | None) -> PermissionCheck:
    """Split :data:`REQUIRED_PERMISSIONS` into granted and missing for a user's ``permissions`` object."""
    permissions = permissions or {}
    granted: list[str] = []
    missing: list[str] = []
    for name in REQUIRED_PERMISSIONS:
        group, key = PERMISSION_KEYS[name]
        value = _at_path(permissions, group, key)
        if value is None:
            value = _anywhere(permissions, key)
        (granted if value is not None and _is_granted(value) else missing).append(name)
    return PermissionCheck(granted=tuple(granted), missing=tuple(missing))


#: API v3 paths -> the UI permission a 403 on them means is missing. Response exports are the calls that
#: "Download Survey Results" governs (qualtrics-api.md section 2); anything else falls back to Access API.
_NEEDED_BY_PATH: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(^|/)surveys/[^/]+/export-responses(/|$)"), "Download Survey Results"),
)


def permission_needed(path: str) -> str:
    """The UI permission (one of :data:`REQUIRED_PERMISSIONS`) that a call to ``path`` needs, for naming it
    in a 403 message: a refused export is a missing *Download Survey Results*, not *Access API*."""
    for pattern, name in _NEEDED_BY_PATH:
        if pattern.search(path):
            return name
    return "Access API"
