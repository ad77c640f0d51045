"""A local Qualtrics API v3 counterpart for development and tests (design.md §4).

    from qualtrics.sandbox import Sandbox, Faults
    sb = Sandbox(seed=7); sb.start(); ...; sb.stop()
"""

from .app import DEFAULT_REDIRECT_URI, ROLES, Sandbox, default_redirect_uri
from .faults import PERMISSION_NAMES, Faults

__all__ = ["DEFAULT_REDIRECT_URI", "PERMISSION_NAMES", "ROLES", "Faults", "Sandbox", "default_redirect_uri"]
