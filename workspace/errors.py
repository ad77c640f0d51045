"""Errors the workspace raises. Each ``str()`` is one sentence a user can act on (pages show it, the CLI
prints it as its one-line reason)."""

from __future__ import annotations


class WorkspaceError(Exception):
    """Base class of everything the workspace refuses or cannot do."""


class NotFound(WorkspaceError, LookupError):
    """A journey, stage, step, metric or survey id that does not exist (any more)."""


class Invalid(WorkspaceError, ValueError):
    """Input the workspace cannot store: empty names, duplicate journeys, unknown metric types…"""


class NotConnected(WorkspaceError):
    """No API token in the environment and no authorized integration stored."""


class AuthorizationFailed(WorkspaceError):
    """The OAuth callback could not complete; ``outcome`` says why (see connection.AuthorizationOutcome)."""


class SyncBusy(WorkspaceError):
    """Another process or thread is syncing the same survey right now."""


class StoreFull(WorkspaceError):
    """The database's disk is full: nothing was written by the failed operation, everything before is kept."""
