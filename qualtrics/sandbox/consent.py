"""The OAuth consent page: a plain HTML form with Approve and Deny, every value escaped."""

from __future__ import annotations

from html import escape

SCOPE_TEXT = {
    "manage:all": "Full access to everything your account can do",
    "read:surveys": "Read your surveys and their questions",
    "read:survey_responses": "Read and export survey responses",
    "read:users": "Read your user profile and permissions",
    "offline": "Stay connected when you are not using the app",
    "offline_access": "Stay connected when you are not using the app",
}


def consent_page(client_name: str, scopes: list[str], user_name: str, request_id: str, action: str) -> str:
    items = "\n".join(
        f"      <li><code>{escape(s)}</code> {escape(SCOPE_TEXT.get(s, ''))}</li>" for s in scopes
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Authorize {escape(client_name)} - Qualtrics sandbox</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto; padding: 0 1rem; color: #1d1d1f; }}
    .card {{ border: 1px solid #d0d4da; border-radius: 8px; padding: 1.5rem; }}
    button {{ font-size: 1rem; padding: .5rem 1.25rem; margin-right: .5rem; border-radius: 6px; cursor: pointer; }}
    button[value=approve] {{ background: #0b5fff; color: #fff; border: 1px solid #0b5fff; }}
    button[value=deny] {{ background: #fff; border: 1px solid #8a9099; }}
    .who {{ color: #5b6270; font-size: .9rem; }}
  </style>
</head>
<body>
  <main class="card">
    <h1>Authorize <span id="client-name">{escape(client_name)}</span></h1>
    <p class="who">Signed in to the Qualtrics sandbox as {escape(user_name)}.</p>
    <p><strong>{escape(client_name)}</strong> is requesting permission to:</p>
    <ul id="scopes">
{items}
    </ul>
    <form method="post" action="{escape(action)}">
      <input type="hidden" name="request_id" value="{escape(request_id)}">
      <button type="submit" name="decision" value="approve">Approve</button>
      <button type="submit" name="decision" value="deny">Deny</button>
    </form>
  </main>
</body>
</html>
"""


def error_page(title: str, message: str) -> str:
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{escape(title)}</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 32rem; margin: 4rem auto">
  <h1>{escape(title)}</h1>
  <p>{escape(message)}</p>
</body>
</html>
"""
