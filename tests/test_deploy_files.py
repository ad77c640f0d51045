"""deploy/ stays true to the code: the environment file lists every setting the app reads and nothing it does
not, loads as a valid configuration, and the systemd units pass `systemd-analyze verify` and run commands
that exist. (tests/test_deployment.py runs the deployment itself.)"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config as streamlit_config

from workspace import cli
from workspace.config import KEYS, Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
ENV_FILE = DEPLOY / "journey-pulse.env"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALLED = "/opt/journey-pulse"


def env_lines(text: str) -> dict[str, tuple[str, bool]]:
    """KEY -> (value, set) for every ``KEY=value`` line, commented out (``#KEY=``) or not."""
    found = {}
    for line in text.splitlines():
        match = re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            found.setdefault(match[2], (match[3], not match[1]))
    return found


def streamlit_env_vars() -> set[str]:
    return {option.env_var for option in streamlit_config._config_options_template.values()}


def test_the_environment_file_lists_every_setting_the_app_reads_and_only_those():
    listed = env_lines(ENV_FILE.read_text())
    assert set(KEYS) <= set(listed), f"missing from {ENV_FILE.name}: {sorted(set(KEYS) - set(listed))}"
    unknown = {key for key in listed if key not in KEYS and key not in streamlit_env_vars()}
    assert not unknown, f"{ENV_FILE.name} names settings nothing reads: {sorted(unknown)}"
    for key in ("PULSE_DATABASE_URL", "PULSE_WORKER", "PULSE_SECRET_KEY", "PULSE_URL",
                "STREAMLIT_SERVER_COOKIE_SECRET"):
        assert listed[key][1], f"{key} must be set (not commented out) in {ENV_FILE.name}"
    assert listed["PULSE_WORKER"][0] == "external"
    assert streamlit_config._config_options_template["server.cookieSecret"].env_var == \
        "STREAMLIT_SERVER_COOKIE_SECRET"


def test_the_environment_file_as_written_is_a_configuration_the_app_accepts():
    values = {key: value for key, (value, is_set) in env_lines(ENV_FILE.read_text()).items() if is_set}
    settings = Settings.load(values, secrets_path=None)
    assert settings.store.is_postgresql
    assert not settings.runs_background_work  # app servers of this file only serve pages
    assert settings.qualtrics_base_url == "https://fra1.qualtrics.com" and not settings.is_sandbox


@pytest.mark.parametrize("unit", UNITS, ids=[unit.name for unit in UNITS])
def test_each_systemd_unit_runs_a_command_this_checkout_has(unit):
    exec_start = re.search(r"^ExecStart=(.+)$", unit.read_text(), re.MULTILINE)
    assert exec_start, f"{unit.name} has no ExecStart"
    argv = shlex.split(exec_start[1])
    assert argv[0].startswith(f"{INSTALLED}/.venv/bin/")
    if argv[1:3] == ["-m", "workspace"]:
        verbs = cli.build_parser()._subparsers._group_actions[0].choices  # noqa: SLF001 (argparse has no API)
        assert argv[3] in verbs, f"{unit.name} runs python -m workspace {argv[3]}, which does not exist"
        with pytest.raises(SystemExit) as parsed:
            cli.build_parser().parse_args([*argv[3:], "--help"])
        assert parsed.value.code == 0
    else:
        assert argv[1:3] == ["run", "app.py"] and (ROOT / "app.py").is_file()
        assert "--server.port" in argv and argv[argv.index("--server.port") + 1] == "%i"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_units_pass_systemd_analyze_verify(tmp_path):
    """Verified as installed, with this checkout and its venv standing in for /opt/journey-pulse."""
    venv = Path(sys.executable).parent.parent
    env_file = tmp_path / "journey-pulse.env"
    env_file.write_text(ENV_FILE.read_text())
    names = []
    for unit in UNITS:
        text = (unit.read_text().replace(f"{INSTALLED}/.venv", str(venv)).replace(INSTALLED, str(ROOT))
                .replace("/etc/journey-pulse/journey-pulse.env", str(env_file)))
        name = unit.name.replace("@.service", "@8501.service")
        (tmp_path / name).write_text(text)
        names.append(str(tmp_path / name))
    verified = subprocess.run(["systemd-analyze", "verify", *names], capture_output=True, text=True, timeout=60)
    problems = [line for line in (verified.stdout + verified.stderr).splitlines()
                if "journey-pulse" in line]
    assert verified.returncode == 0 and not problems, verified.stdout + verified.stderr
