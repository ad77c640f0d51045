#!/usr/bin/env bash
# Installs what the tests need and runs the whole suite, browser walk-through included.
# Used as-is by CI (.ci/run) and by README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Chromium from Debian for the browser tests..." >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r requirements-test.txt

exec .venv/bin/python -m pytest "$@"
