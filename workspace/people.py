"""Who may do what: the three roles of Journey Pulse and the permission checks the pages ask.

How a signed-in person gets a role: from the ``[roles]`` lists of .streamlit/secrets.toml (validated by
:func:`role_lists`), matched against an email the identity provider verified (:func:`verified_email`).
This module also says what each role allows, so that every page asks the same question the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from workspace.config import ConfigError


class Role(StrEnum):
    """Integration managers connect Qualtrics; editors build metrics and journeys; viewers look."""

    MANAGER = "Integration manager"
    EDITOR = "Editor"
    VIEWER = "Viewer"


def can_manage_integrations(role: Role) -> bool:
    """Enable, Authorize, Reauthorize and Disconnect (design.md §1.2)."""
    return role == Role.MANAGER


def can_edit_metrics(role: Role) -> bool:
    """+ Metric, mappings, targets, Sync data."""
    return role in (Role.MANAGER, Role.EDITOR)


def can_edit_journeys(role: Role) -> bool:
    """Create journeys, stages and steps, and place metrics on steps."""
    return role in (Role.MANAGER, Role.EDITOR)


def can_view(role: Role) -> bool:
    """Every role may read journeys, metrics and live mode."""
    return role in (Role.MANAGER, Role.EDITOR, Role.VIEWER)


def role_for(email: str | None, managers: Iterable[str] = (), editors: Iterable[str] = (),
             default: Role = Role.VIEWER) -> Role:
    """Role of ``email`` given lists of manager and editor emails (case-insensitive; ``*`` matches all)."""
    if not email:
        return default
    address = email.strip().lower()

    def listed(emails: Iterable[str]) -> bool:
        return any(e.strip().lower() in (address, "*") for e in emails)

    if listed(managers):
        return Role.MANAGER
    if listed(editors):
        return Role.EDITOR
    return default


ROLE_KEYS = ("integration_managers", "editors")
DISCOVERY_SUFFIX = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class RoleLists:
    """The ``[roles]`` section of .streamlit/secrets.toml, validated."""

    managers: tuple[str, ...] = ()
    editors: tuple[str, ...] = ()

    def role_of(self, email: str | None) -> Role:
        return role_for(email, self.managers, self.editors)


def role_lists(section: Mapping[str, Any] | None) -> RoleLists:
    """Validate ``[roles]``: each key a list of email addresses (``"*"`` for everyone signed in).

    A string where a list belongs would be read letter by letter (``"*@example.com"`` contains ``"*"``, so
    everyone would be a manager); it is a configuration error naming the key instead, as is an unknown key.
    """
    section = dict(section or {})
    unknown = sorted(set(section) - set(ROLE_KEYS))
    if unknown:
        raise ConfigError(f"[roles] {unknown[0]} is not a role: use integration_managers and editors "
                          "(lists of email addresses).")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ROLE_KEYS:
        value = section.get(key, [])
        if isinstance(value, str) or not isinstance(value, (list, tuple)) \
                or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"[roles] {key} must be a list of email addresses, e.g. {key} = "
                              f"[\"ana@example.com\"] (got {value!r}).")
        lists[key] = tuple(item.strip() for item in value if item.strip())
    return RoleLists(managers=lists["integration_managers"], editors=lists["editors"])


def expected_issuers(auth: Mapping[str, Any] | None) -> frozenset[str]:
    """The ID-token issuers of the configured ``[auth]`` providers, from their ``server_metadata_url``
    (OpenID Connect Discovery: the metadata lives at ``{issuer}/.well-known/openid-configuration``)."""
    sections = [auth or {}, *[v for v in (auth or {}).values() if isinstance(v, Mapping)]]
    issuers = set()
    for section in sections:
        url = section.get("server_metadata_url")
        if isinstance(url, str) and url.endswith(DISCOVERY_SUFFIX):
            issuers.add(url[: -len(DISCOVERY_SUFFIX)].rstrip("/"))
    return frozenset(issuers)


def verified_email(claims: Mapping[str, Any], issuers: frozenset[str] = frozenset()) -> str | None:
    """The signed-in person's email when the identity provider vouches for it, else None (no role beyond
    the default). Vouching means ``email_verified`` is true and, when the ID token names its issuer and the
    configured providers' issuers are known, that issuer is one of them."""
    email = claims.get("email")
    verified = claims.get("email_verified")
    if not isinstance(email, str) or not email.strip():
        return None
    if verified is not True and str(verified).strip().lower() != "true":
        return None
    issuer = claims.get("iss")
    if issuer and issuers and str(issuer).rstrip("/") not in issuers:
        return None
    return email.strip()
