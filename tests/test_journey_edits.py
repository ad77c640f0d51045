"""Safe, obvious journey edits (issue 10, deliverable 2), through the real page in AppTest and the workspace."""

from __future__ import annotations

import pytest

from tests.test_pages import connect, nps_metric, no_exception, open_page, settings  # noqa: F401  (fixture)
from ui import routes
from workspace import journey_view, journeys
from workspace.errors import Invalid


def edit_panel_journey(settings):
    journey = journeys.create_journey(settings, "Onboarding", stages=[("Discover", ["See an ad", "Visit site"]),
                                                                       ("Join", ["Sign up"])])
    return journey


def test_a_new_journey_opens_at_once_with_a_message_and_the_popover_closed(settings):
    first = journey_view.create_with_stages(settings, "Onboarding", "Discover")
    at = open_page(routes.JOURNEYS, query={"journey": str(first.id)})
    at.text_input(key="new_journey_name").input("Support")
    at.text_input(key="new_journey_stages").input("Contact, Resolve")
    at.button[[b.label for b in at.button].index("Create journey")].click().run()
    no_exception(at)
    created = journeys.journey_by_name(settings, "Support")
    assert at.query_params["journey"] == [str(created.id)] or at.query_params["journey"] == str(created.id)
    assert at.selectbox(key="journey_pick").value == created.id
    assert any("Support" in s.value and "created" in s.value for s in at.success)
    assert at.session_state["new_journey_popover"] is False


def test_creating_a_journey_with_a_taken_name_says_so_and_keeps_the_current_one(settings):
    first = journey_view.create_with_stages(settings, "Onboarding", "Discover")
    at = open_page(routes.JOURNEYS, query={"journey": str(first.id)})
    at.text_input(key="new_journey_name").input("Onboarding")
    at.button[[b.label for b in at.button].index("Create journey")].click().run()
    assert any("already exists" in e.value for e in at.error)
    assert at.selectbox(key="journey_pick").value == first.id


def test_deleting_a_step_asks_first_and_can_be_undone_with_its_metrics(settings, sandbox):
    connect(settings)
    journey = edit_panel_journey(settings)
    step = journey.stages[0].steps[1]
    metric = nps_metric(settings, sandbox)
    journeys.place_metric(settings, metric.id, step.id)
    at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
    at.button(key=f"step_delete_{step.id}").click().run()
    assert [s.name for s in journeys.get_journey(settings, journey.id).steps] == ["See an ad", "Visit site", "Sign up"]
    assert any("Delete the step “Visit site” with 1 metric placement" in w.value for w in at.warning)
    at.button(key="confirm_delete_step").click().run()
    assert [s.name for s in journeys.get_journey(settings, journey.id).steps] == ["See an ad", "Sign up"]
    at.button(key="undo_delete").click().run()
    no_exception(at)
    restored = journeys.get_journey(settings, journey.id).stages[0].steps
    assert [s.name for s in restored] == ["See an ad", "Visit site"] and restored[1].metric_ids == (metric.id,)


def test_keep_it_leaves_the_stage_alone(settings):
    journey = edit_panel_journey(settings)
    at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
    at.button(key=f"stage_delete_{journey.stages[0].id}").click().run()
    at.button(key="cancel_delete_stage").click().run()
    assert [s.name for s in journeys.get_journey(settings, journey.id).stages] == ["Discover", "Join"]


def test_a_deleted_stage_comes_back_in_place_with_its_steps(settings):
    journey = edit_panel_journey(settings)
    deleted = journeys.delete_stage(settings, journey.stages[0].id)
    assert [s.name for s in journeys.get_journey(settings, journey.id).stages] == ["Join"]
    journeys.restore(settings, deleted)
    again = journeys.get_journey(settings, journey.id)
    assert [(g.name, [s.name for s in g.steps]) for g in again.stages] == [
        ("Discover", ["See an ad", "Visit site"]), ("Join", ["Sign up"])]


def test_arrows_that_cannot_move_are_disabled(settings):
    journey = edit_panel_journey(settings)
    at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
    first, last = journey.stages
    assert at.button(key=f"stage_left_{first.id}").disabled and at.button(key=f"stage_right_{last.id}").disabled
    assert not at.button(key=f"stage_right_{first.id}").disabled
    assert at.button(key=f"step_down_{first.steps[-1].id}").disabled
    assert at.button(key=f"step_up_{first.steps[0].id}").disabled
    assert not at.button(key=f"step_down_{first.steps[0].id}").disabled
    assert at.button(key=f"step_down_{last.steps[0].id}").disabled, "a stage's only step moves nowhere"


@pytest.mark.parametrize("change", [
    lambda s, j: journeys.add_stage(s, j.id, " discover "),
    lambda s, j: journeys.rename_stage(s, j.stages[1].id, "DISCOVER"),
    lambda s, j: journeys.add_step(s, j.stages[0].id, "see an ad"),
    lambda s, j: journeys.rename_step(s, j.stages[0].steps[0].id, "Visit site"),
    lambda s, j: journeys.create_journey(s, "Twice", stages=[("A", ["x"]), ("A", ["y"])]),
    lambda s, j: journeys.create_journey(s, "Twins", stages=[("A", ["x", "X"])]),
    lambda s, j: journeys.add_step(s, j.stages[1].id, "See an ad"),
    lambda s, j: journeys.create_journey(s, "Across", stages=[("A", ["x"]), ("B", [" X "])]),
], ids=["add stage", "rename stage", "add step", "rename step", "create with twin stages", "create with twin steps",
        "add a step named like one in another stage", "create with twin steps in two stages"])
def test_stage_and_step_names_are_unique_in_a_journey(settings, change):
    journey = edit_panel_journey(settings)
    with pytest.raises(Invalid, match="already has a (stage|step) named"):
        change(settings, journey)


def test_the_same_step_name_is_fine_in_another_journey_and_a_rename_to_itself(settings):
    journey = edit_panel_journey(settings)
    journeys.create_journey(settings, "Support", stages=[("Discover", ["See an ad"])])
    journeys.rename_step(settings, journey.stages[0].steps[0].id, "See an ad")
    journeys.rename_step(settings, journey.stages[0].steps[0].id, " SEE AN AD ")


def test_a_duplicate_step_name_on_the_page_is_refused_with_a_message(settings):
    journey = edit_panel_journey(settings)
    at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
    discover = journey.stages[0]
    at.text_input(key=f"new_step_{discover.id}").input("Visit site")
    form_buttons = [b for b in at.button if b.label == "Add step"]
    form_buttons[0].click().run()
    assert any("already has a step named 'Visit site'" in e.value for e in at.error)
    assert [s.name for s in journeys.get_journey(settings, journey.id).stages[0].steps] == ["See an ad", "Visit site"]


def test_a_rename_made_elsewhere_is_kept_and_shown_by_an_open_edit_panel(settings):
    """Another tab or app server renames a stage and a step while this session's edit panel shows the old
    names: its next rerun shows the new names instead of renaming them back."""
    journey = edit_panel_journey(settings)
    stage, step = journey.stages[0], journey.stages[0].steps[1]
    at = open_page(routes.JOURNEYS, query={"journey": str(journey.id)})
    assert at.text_input(key=f"step_name_{step.id}").value == "Visit site"
    journeys.rename_stage(settings, stage.id, "Explore")
    journeys.rename_step(settings, step.id, "Read the docs")
    at.run()
    no_exception(at)
    stored = journeys.get_journey(settings, journey.id)
    assert stored.stages[0].name == "Explore" and stored.stages[0].steps[1].name == "Read the docs"
    assert at.text_input(key=f"stage_name_{stage.id}").value == "Explore"
    assert at.text_input(key=f"step_name_{step.id}").value == "Read the docs"

    at.text_input(key=f"step_name_{step.id}").input("Compare plans").run()  # a rename typed here still works
    assert journeys.get_journey(settings, journey.id).stages[0].steps[1].name == "Compare plans"
