"""Who may do what: the three roles of Journey Pulse and the permission checks the pages ask.

How a signed-in person gets a role (from ``st.login`` emails, a config list…) is the app's decision;
this module only says what each role allows, so that every page asks the same question the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


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
