"""The frame around every page: who is signed in, with which role, and the navigation.

When Streamlit's `[auth]` is configured, people sign in with `st.login` and their role comes from
the email lists in `[roles]` of .streamlit/secrets.toml:

    [roles]
    integration_managers = ["ana@example.com"]
    editors = ["eli@example.com"]   # or ["*"] for everyone signed in

Without `[auth]` the app has one local user, who manages integrations (a developer's machine).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from workspace.bootstrap import Runtime, runtime
from workspace.people import Role, can_edit_journeys, can_edit_metrics, can_manage_integrations, role_for

LOCAL_USER = "local user"


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    role: Role

    @property
    def manages_integrations(self) -> bool:
        return can_manage_integrations(self.role)

    @property
    def edits_metrics(self) -> bool:
        return can_edit_metrics(self.role)

    @property
    def edits_journeys(self) -> bool:
        return can_edit_journeys(self.role)


def _secret(section: str) -> dict:
    try:
        return dict(st.secrets.get(section, {}))
    except FileNotFoundError:
        return {}


def login_configured() -> bool:
    return bool(_secret("auth"))


def signed_in_person() -> Person:
    """The person looking at the app; shows the sign-in screen and stops when nobody is signed in."""
    if not login_configured():
        return Person(name=LOCAL_USER, email=None, role=Role.MANAGER)
    if not st.user.is_logged_in:
        st.title("Journey Pulse")
        st.write("Sign in to see your team's journeys and scores.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    roles = _secret("roles")
    email = st.user.get("email")
    role = role_for(email, roles.get("integration_managers", ()), roles.get("editors", ()))
    return Person(name=st.user.get("name") or email or "signed-in user", email=email, role=role)


def app_runtime() -> Runtime:
    return runtime()


UI_DIR = Path(__file__).resolve().parent


def wall_mode() -> bool:
    """A Live wall screen (``?wall=1``): no navigation, no sidebar, no widgets, only the figures."""
    return st.query_params.get("wall") == "1"


def sidebar(person: Person) -> None:
    if wall_mode():
        return
    st.logo(str(UI_DIR / "logo.svg"), icon_image=str(UI_DIR / "icon.svg"), size="large")
    with st.sidebar:
        st.caption(f"{person.name} · {person.role.value}")
        if login_configured():
            st.button("Sign out", on_click=st.logout, key="sign_out")


def navigation(pages: dict[str, list[st.Page]]) -> st.Page:
    """Register every page; hidden ones stay reachable by link but out of the menu."""
    return st.navigation(pages, position="hidden" if wall_mode() else "sidebar")


def current_person() -> Person:
    """The person looking at this page (cheap: reads `st.user` and the role lists again)."""
    return signed_in_person()
