"""``python -m qualtrics``: the command line's composition root (see qualtrics.cli).

The only module of this package that may import the workspace, and only lazily, to reuse the connection the
app stored when no API token is in the environment.
"""

from __future__ import annotations

from collections.abc import Mapping

from qualtrics.cli import NO_CONNECTION, main
from qualtrics.client import QualtricsClient
from qualtrics.errors import QualtricsError


def stored_client(env: Mapping[str, str]) -> QualtricsClient:
    """A client for the OAuth grant the app stored (``workspace.connection.open_client``); workspace errors
    become one-line QualtricsErrors; a workspace that cannot be imported means there is nothing stored."""
    try:
        from workspace.config import Settings
        from workspace.connection import open_client
        from workspace.errors import WorkspaceError
    except ImportError:
        raise QualtricsError(NO_CONNECTION) from None
    try:
        return open_client(Settings.load(env))
    except WorkspaceError as exc:
        raise QualtricsError(str(exc) or NO_CONNECTION) from None


if __name__ == "__main__":
    raise SystemExit(main(stored_client=stored_client))
