"""The frame around every page: who is signed in, with which role, and the navigation.

When Streamlit's `[auth]` is configured, people sign in with `st.login` and their role comes from
the email lists in `[roles]` of .streamlit/secrets.toml:

    [roles]
    integration_managers = ["ana@example.com"]
    editors = ["eli@example.com"]   # or ["*"] for everyone signed in

Without `[auth]` the app has one local user, who manages integrations: it then listens on loopback only,
unless the operator sets PULSE_OPEN_ACCESS=1, and every page says so (:func:`open_access_banner`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from workspace.bootstrap import Runtime, runtime
from workspace.people import (Role, can_edit_journeys, can_edit_metrics, can_manage_integrations, expected_issuers,
                              role_lists, verified_email)

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


def secret_section(section: str) -> dict:
    try:
        return dict(st.secrets.get(section, {}))
    except FileNotFoundError:
        return {}


def login_configured() -> bool:
    return bool(secret_section("auth"))


def signed_in_person() -> Person:
    """The person looking at the app; shows the sign-in screen and stops when nobody is signed in."""
    if not login_configured():
        return Person(name=LOCAL_USER, email=None, role=Role.MANAGER)
    if not st.user.is_logged_in:
        st.title("Journey Pulse")
        st.write("Sign in to see your team's journeys and scores.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    roles = role_lists(secret_section("roles"))  # a malformed [roles] is a ConfigError, shown on every page
    email = verified_email(st.user.to_dict(), expected_issuers(secret_section("auth")))
    return Person(name=st.user.get("name") or email or "signed-in user", email=email, role=roles.role_of(email))


def open_access_banner() -> None:
    """Every page, when PULSE_OPEN_ACCESS=1 and nobody signs in: say that anyone can manage this instance."""
    if login_configured() or not runtime().settings.open_access:
        return
    st.warning("Open access (PULSE_OPEN_ACCESS=1): anyone who can reach this address can manage Journey Pulse "
               "— connect or disconnect Qualtrics, rotate the Data Hub key, delete metrics and read every "
               "response. Configure sign-in ([auth]) to restrict it.", icon=":material/lock_open:")


def app_runtime() -> Runtime:
    return runtime()


UI_DIR = Path(__file__).resolve().parent


def wall_mode() -> bool:
    """A Live wall screen (``?wall=1``): no navigation, no sidebar, no widgets, only the figures."""
    return st.query_params.get("wall") == "1"


# Streamlit draws primary buttons' labels white in both themes; on the dark theme's light-blue primary
# (#56B4E9, chosen so primary-coloured text reads on the dark background) white is 2.3:1. The label
# takes the dark background colour there instead (7.8:1). light-dark() follows the `color-scheme`
# Streamlit sets on the app. tests/test_contrast.py checks these pairs against .streamlit/config.toml.
PRIMARY_BUTTON_TEXT = {"light": "#FFFFFF", "dark": "#10151C"}
FRAME_STYLE = f"""<style>
[data-testid^="stBaseButton-primary"], [data-testid^="stBaseButton-primary"] p,
[data-testid^="stBaseLinkButton-primary"], [data-testid^="stBaseLinkButton-primary"] p {{
  color: light-dark({PRIMARY_BUTTON_TEXT['light']}, {PRIMARY_BUTTON_TEXT['dark']}) !important; }}
</style>"""


def sidebar(person: Person) -> None:
    st.html(FRAME_STYLE)
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
