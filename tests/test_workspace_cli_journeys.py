"""Journeys from the command line (design.md §5): ``journeys [--json]``, ``add-journey NAME --step "STAGE/STEP"``
and ``add-metric … --journey NAME --step STEP``, so a script can build what the app's Journeys page builds."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tests.sandbox_fixtures import ROOT
from workspace import journeys, store
from workspace.cli import main
from workspace.config import Settings


@pytest.fixture
def env(tmp_path, monkeypatch, sandbox) -> dict[str, str]:
    values = {**sandbox.env(), "PULSE_DB": str(tmp_path / "pulse.db"), "PULSE_SECRET_KEY": "test-key"}
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def structure(name: str) -> list[tuple[str, list[str]]]:
    journey = journeys.journey_by_name(Settings.load(), name)
    assert journey is not None
    return [(stage.name, [step.name for step in stage.steps]) for stage in journey.stages]


def test_add_journey_keeps_stages_and_steps_in_the_order_given(env):
    code, out, _ = run("add-journey", "Onboarding", "--step", "Discover/Visit site", "--step", "Sign up/Create account",
                       "--step", "Discover/Read pricing", "--step", "Sign up/Verify email")
    assert code == 0 and out.startswith("Created journey 'Onboarding' with 2 stage(s) and 4 step(s)")
    assert structure("Onboarding") == [("Discover", ["Visit site", "Read pricing"]),
                                       ("Sign up", ["Create account", "Verify email"])]


def test_rerunning_add_journey_adds_only_missing_steps_never_duplicates(env):
    run("add-journey", "Onboarding", "--step", "Discover/Visit site", "--step", "Sign up/Create account")
    code, out, _ = run("add-journey", "onboarding", "--step", "discover/visit SITE", "--step", "Use/First report",
                       "--step", "Sign up/Create account")
    assert code == 0 and out.strip() == "Journey 'Onboarding': added 1 step(s): Use/First report."
    assert structure("Onboarding") == [("Discover", ["Visit site"]), ("Sign up", ["Create account"]),
                                       ("Use", ["First report"])]
    code, out, _ = run("add-journey", "Onboarding", "--step", "Use/First report")
    assert code == 0 and "nothing changed" in out
    assert len(journeys.list_journeys(Settings.load())) == 1


def test_journeys_lists_stages_and_steps_in_order_as_text_and_json(env):
    assert run("journeys")[1].startswith("No journeys yet.")
    run("add-journey", "Support", "--step", "Contact/Open ticket", "--step", "Resolve/Get answer")
    run("add-journey", "Billing", "--step", "Pay/Checkout")
    code, out, _ = run("journeys")
    assert code == 0
    assert out.splitlines() == ["Billing", "  Pay", "    - Checkout", "Support", "  Contact", "    - Open ticket",
                                "  Resolve", "    - Get answer"]
    code, out, _ = run("journeys", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["name"] for r in rows] == ["Billing", "Support"]
    assert [(s["name"], [p["name"] for p in s["steps"]]) for s in rows[1]["stages"]] == [
        ("Contact", ["Open ticket"]), ("Resolve", ["Get answer"])]
    assert rows[1]["stages"][0]["steps"][0]["metrics"] == []


def test_add_metric_places_the_metric_on_the_named_step(env, sandbox):
    run("add-journey", "Onboarding", "--step", "Start/Sign up", "--step", "Use/First use", "--step", "Use/Report")
    survey = sandbox.survey_ids["nps"]
    code, out, err = run("add-metric", "--survey", survey, "--question", "QID1", "--type", "nps",
                         "--journey", "Onboarding", "--step", "Report")
    assert code == 0, err
    assert "on step 'Report' of 'Onboarding'" in out
    code, _, err = run("add-metric", "--survey", survey, "--question", "QID1", "--type", "nps",
                       "--journey", "Onboarding", "--step", "Use/First use")
    assert code == 0, err
    rows = [json.loads(line) for line in run("journeys", "--json")[1].splitlines()]
    placed = {(s["name"], p["name"]): p["metrics"] for s in rows[0]["stages"] for p in s["steps"]}
    assert placed == {("Start", "Sign up"): [], ("Use", "First use"): [2], ("Use", "Report"): [1]}
    assert "(metrics 1)" in run("journeys")[1]


@pytest.mark.parametrize(("argv", "message"), [
    (("add-journey", "Onboarding", "--step", "no slash"), "is not STAGE/STEP"),
    (("add-journey", "Onboarding", "--step", "/Sign up"), "is not STAGE/STEP"),
    (("add-metric", "--survey", "SV_x", "--question", "QID1", "--type", "nps", "--journey", "Nope", "--step", "A"),
     "No journey named 'Nope'"),
    (("add-metric", "--survey", "SV_x", "--question", "QID1", "--type", "nps", "--journey", "Onboarding",
      "--step", "Checkout"), "has no step named 'Checkout' (steps: Start/Sign up, Use/First use)"),
    (("add-journey", "Onboarding", "--step", "Use/Sign up"), "already has a step named 'Sign up'"),
])
def test_bad_journey_input_is_one_sentence_and_exit_1_and_changes_nothing(env, argv, message):
    run("add-journey", "Onboarding", "--step", "Start/Sign up", "--step", "Use/First use")
    before = structure("Onboarding")
    code, out, err = run(*argv)
    assert code == 1 and out == ""
    assert err.startswith("Error: ") and message in err and len(err.strip().splitlines()) == 1
    assert structure("Onboarding") == before
    assert run("metrics", "--json")[1] == ""  # no metric was created for a step that does not exist


def test_commands_run_as_a_process_with_exit_codes(env):
    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "workspace", *args], cwd=ROOT, env={**__import__("os").environ,
                              **env}, capture_output=True, text=True, timeout=60)

    made = cli("add-journey", "Onboarding", "--step", "Start/Sign up")
    assert made.returncode == 0, made.stderr
    assert json.loads(cli("journeys", "--json").stdout)["stages"][0]["steps"][0]["name"] == "Sign up"
    missing = cli("add-journey", "Onboarding")
    assert missing.returncode == 2 and "--step" in missing.stderr  # argparse: the step is required


def test_a_step_name_held_twice_by_an_older_store_is_refused_with_its_stage_paths(env):
    run("add-journey", "Onboarding", "--step", "Start/Sign up", "--step", "Use/First use")
    with store.connect(Settings.load().store) as db, store.transaction(db):  # a store from before names were unique
        db.execute("UPDATE steps SET name = 'Sign up' WHERE name = 'First use'")
    code, out, err = run("add-metric", "--survey", "SV_x", "--question", "QID1", "--type", "nps",
                         "--journey", "Onboarding", "--step", "Sign up")
    assert code == 1 and "name it with its stage: 'Start/Sign up', 'Use/Sign up'" in err
