"""Journeys: ordered stages, each with ordered steps, and the metrics placed on steps (many to many).

Positions are dense integers (0, 1, 2…) kept in order by every insert, move and delete, so pages can
sort by them and show "move left / move right" without gaps to reason about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


from workspace.config import Settings
from workspace.store import Database, connect, transaction, utcnow, versions
from workspace.errors import Invalid, NotFound


@dataclass(frozen=True)
class Step:
    id: int
    stage_id: int
    name: str
    position: int
    metric_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class Stage:
    id: int
    journey_id: int
    name: str
    position: int
    steps: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Journey:
    id: int
    name: str
    description: str
    owner: str | None
    created_at: str
    stages: tuple[Stage, ...] = ()

    @property
    def steps(self) -> tuple[Step, ...]:
        """All steps left to right, across stages."""
        return tuple(step for stage in self.stages for step in stage.steps)

    @property
    def metric_ids(self) -> set[int]:
        """The metrics placed anywhere on the journey."""
        return {metric_id for step in self.steps for metric_id in step.metric_ids}


@dataclass(frozen=True)
class Placement:
    """Where a metric sits: one journey step."""

    journey_id: int
    journey_name: str
    stage_id: int
    stage_name: str
    step_id: int
    step_name: str


def _name(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise Invalid(f"A {what} needs a name.")
    return value


def _load(db: Database, journey_id: int) -> Journey:
    rows = list(db.query("SELECT * FROM journeys WHERE id = ?", [journey_id]))
    if not rows:
        raise NotFound(f"Journey {journey_id} does not exist (it may have been deleted).")
    j = rows[0]
    placements: dict[int, list[int]] = {}
    for row in db.query(
            "SELECT p.step_id, p.metric_id FROM placements p JOIN steps s ON s.id = p.step_id "
            "JOIN stages g ON g.id = s.stage_id WHERE g.journey_id = ? ORDER BY p.position, p.metric_id",
            [journey_id]):
        placements.setdefault(row["step_id"], []).append(row["metric_id"])
    steps: dict[int, list[Step]] = {}
    for row in db.query(
            "SELECT s.* FROM steps s JOIN stages g ON g.id = s.stage_id WHERE g.journey_id = ? "
            "ORDER BY s.position, s.id", [journey_id]):
        steps.setdefault(row["stage_id"], []).append(
            Step(row["id"], row["stage_id"], row["name"], row["position"], tuple(placements.get(row["id"], ()))))
    stages = tuple(
        Stage(row["id"], journey_id, row["name"], row["position"], tuple(steps.get(row["id"], ())))
        for row in db.query("SELECT * FROM stages WHERE journey_id = ? ORDER BY position, id", [journey_id]))
    return Journey(j["id"], j["name"], j["description"], j["owner"], j["created_at"], stages)


def create_journey(settings: Settings, name: str, description: str = "", owner: str | None = None,
                   stages: Sequence[tuple[str, Sequence[str]]] = ()) -> Journey:
    """A new journey, optionally with its stages and their steps given as ``[(stage, [step, …]), …]``."""
    name = _name(name, "journey")
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            if db.execute("SELECT 1 FROM journeys WHERE name = ?", (name,)).fetchone():
                raise Invalid(f"A journey named {name!r} already exists; pick another name.")
            journey_id = db.insert_returning_id(
                "INSERT INTO journeys (name, description, owner, created_at) VALUES (?, ?, ?, ?)",
                (name, description or "", owner, utcnow()))
            for stage_name, step_names in stages:
                stage_id = _insert_child(db, "stage", journey_id, stage_name, None)
                for step_name in step_names:
                    _insert_child(db, "step", stage_id, step_name, None)
        return _load(db, journey_id)


def get_journey(settings: Settings, journey_id: int) -> Journey:
    """One journey with its stages, steps and the metric ids placed on each step."""
    with connect(settings.store) as db:
        return _load(db, journey_id)


def journey_by_name(settings: Settings, name: str) -> Journey | None:
    """The journey called ``name`` (exact, then case-insensitive), or None."""
    with connect(settings.store) as db:
        row = db.execute(
            "SELECT id FROM journeys WHERE name = ? OR lower(name) = lower(?) ORDER BY name = ? DESC LIMIT 1",
            (name.strip(), name.strip(), name.strip())).fetchone()
        return _load(db, row[0]) if row else None


def list_journeys(settings: Settings) -> list[Journey]:
    """Every journey, by name, with its full structure (journeys are few and small)."""
    with connect(settings.store) as db:
        ids = [r[0] for r in db.execute("SELECT id FROM journeys ORDER BY lower(name)")]
        return [_load(db, i) for i in ids]


def update_journey(settings: Settings, journey_id: int, *, name: str | None = None,
                   description: str | None = None) -> Journey:
    """Rename a journey and/or change its description."""
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            _load(db, journey_id)
            if name is not None:
                name = _name(name, "journey")
                clash = db.execute("SELECT 1 FROM journeys WHERE name = ? AND id != ?",
                                        (name, journey_id)).fetchone()
                if clash:
                    raise Invalid(f"A journey named {name!r} already exists; pick another name.")
                db.execute("UPDATE journeys SET name = ? WHERE id = ?", (name, journey_id))
            if description is not None:
                db.execute("UPDATE journeys SET description = ? WHERE id = ?", (description, journey_id))
        return _load(db, journey_id)


def delete_journey(settings: Settings, journey_id: int) -> None:
    """Delete a journey with its stages, steps and placements (the metrics themselves stay)."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        if db.execute("DELETE FROM journeys WHERE id = ?", (journey_id,)).rowcount == 0:
            raise NotFound(f"Journey {journey_id} does not exist (it may have been deleted).")


# --- ordered children -----------------------------------------------------------------------------

_CHILD = {
    "stage": ("stages", "journey_id"),
    "step": ("steps", "stage_id"),
}


def _check_unique(db: Database, kind: str, parent_id: int, name: str, except_id: int | None = None) -> None:
    """Stage and step names are unique within their journey (ignoring case and outer spaces): a lane with two
    "Billing" columns cannot be read, and ``add-metric --journey J --step NAME`` must name one step."""
    if kind == "stage":
        rows = db.execute("SELECT id FROM stages WHERE journey_id = ? AND lower(trim(name)) = lower(?)",
                               (parent_id, name.strip()))
    else:
        journey_id, _ = _parent_of(db, "stage", parent_id)
        rows = db.execute(
            "SELECT steps.id FROM steps JOIN stages ON stages.id = steps.stage_id "
            "WHERE stages.journey_id = ? AND lower(trim(steps.name)) = lower(?)", (journey_id, name.strip()))
    if [r[0] for r in rows if r[0] != except_id]:
        raise Invalid(f"This journey already has a {kind} named {name.strip()!r}; pick another name.")


def _insert_child(db: Database, kind: str, parent_id: int, name: str, position: int | None) -> int:
    table, parent = _CHILD[kind]
    _check_unique(db, kind, parent_id, _name(name, kind))
    count = db.execute(f"SELECT count(*) FROM {table} WHERE {parent} = ?", (parent_id,)).fetchone()[0]
    position = count if position is None else max(0, min(position, count))
    db.execute(f"UPDATE {table} SET position = position + 1 WHERE {parent} = ? AND position >= ?",
                    (parent_id, position))
    return db.insert_returning_id(f"INSERT INTO {table} ({parent}, name, position) VALUES (?, ?, ?)",
                           (parent_id, _name(name, kind), position))


def _parent_of(db: Database, kind: str, child_id: int) -> tuple[int, int]:
    table, parent = _CHILD[kind]
    row = db.execute(f"SELECT {parent}, position FROM {table} WHERE id = ?", (child_id,)).fetchone()
    if row is None:
        raise NotFound(f"That {kind} ({child_id}) does not exist (it may have been deleted).")
    return row[0], row[1]


def _renumber(db: Database, kind: str, parent_id: int, ordered_ids: list[int]) -> None:
    table, _ = _CHILD[kind]
    db.executemany(f"UPDATE {table} SET position = ? WHERE id = ?",
                        [(i, child) for i, child in enumerate(ordered_ids)])


def _move(db: Database, kind: str, child_id: int, position: int) -> None:
    table, parent = _CHILD[kind]
    parent_id, _ = _parent_of(db, kind, child_id)
    ids = [r[0] for r in db.execute(
        f"SELECT id FROM {table} WHERE {parent} = ? ORDER BY position, id", (parent_id,))]
    ids.remove(child_id)
    ids.insert(max(0, min(position, len(ids))), child_id)
    _renumber(db, kind, parent_id, ids)


def _delete(db: Database, kind: str, child_id: int) -> None:
    table, parent = _CHILD[kind]
    parent_id, _ = _parent_of(db, kind, child_id)
    db.execute(f"DELETE FROM {table} WHERE id = ?", (child_id,))
    ids = [r[0] for r in db.execute(
        f"SELECT id FROM {table} WHERE {parent} = ? ORDER BY position, id", (parent_id,))]
    _renumber(db, kind, parent_id, ids)


def add_stage(settings: Settings, journey_id: int, name: str, position: int | None = None) -> Stage:
    """Insert a stage (at the end unless ``position`` is given); returns it."""
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            _load(db, journey_id)
            stage_id = _insert_child(db, "stage", journey_id, name, position)
        return next(s for s in _load(db, journey_id).stages if s.id == stage_id)


def add_step(settings: Settings, stage_id: int, name: str, position: int | None = None) -> Step:
    """Insert a step into a stage (at the end unless ``position`` is given); returns it."""
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            journey_id, _ = _parent_of(db, "stage", stage_id)
            step_id = _insert_child(db, "step", stage_id, name, position)
        return next(s for s in _load(db, journey_id).steps if s.id == step_id)


def rename_stage(settings: Settings, stage_id: int, name: str) -> None:
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        journey_id, _ = _parent_of(db, "stage", stage_id)
        _check_unique(db, "stage", journey_id, _name(name, "stage"), except_id=stage_id)
        db.execute("UPDATE stages SET name = ? WHERE id = ?", (_name(name, "stage"), stage_id))


def rename_step(settings: Settings, step_id: int, name: str) -> None:
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        stage_id, _ = _parent_of(db, "step", step_id)
        _check_unique(db, "step", stage_id, _name(name, "step"), except_id=step_id)
        db.execute("UPDATE steps SET name = ? WHERE id = ?", (_name(name, "step"), step_id))


def move_stage(settings: Settings, stage_id: int, position: int) -> None:
    """Move a stage to ``position`` among its journey's stages (others shift)."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        _move(db, "stage", stage_id, position)


def move_step(settings: Settings, step_id: int, position: int) -> None:
    """Move a step to ``position`` within its stage (others shift)."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        _move(db, "step", step_id, position)


@dataclass(frozen=True)
class DeletedStep:
    """What a deleted step was, so that Undo can put it back where it was, with its metrics."""

    stage_id: int
    position: int
    name: str
    metric_ids: tuple[int, ...]


@dataclass(frozen=True)
class DeletedStage:
    journey_id: int
    position: int
    name: str
    steps: tuple[DeletedStep, ...]


def _step_snapshot(db: Database, step_id: int) -> DeletedStep:
    stage_id, position = _parent_of(db, "step", step_id)
    name = db.execute("SELECT name FROM steps WHERE id = ?", (step_id,)).fetchone()[0]
    metric_ids = tuple(r[0] for r in db.execute(
        "SELECT metric_id FROM placements WHERE step_id = ? ORDER BY position, metric_id", (step_id,)))
    return DeletedStep(stage_id, position, name, metric_ids)


def delete_stage(settings: Settings, stage_id: int) -> DeletedStage:
    """Delete a stage with its steps and their placements; returns what :func:`restore` needs."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        journey_id, position = _parent_of(db, "stage", stage_id)
        name = db.execute("SELECT name FROM stages WHERE id = ?", (stage_id,)).fetchone()[0]
        steps = tuple(_step_snapshot(db, r[0]) for r in db.execute(
            "SELECT id FROM steps WHERE stage_id = ? ORDER BY position, id", (stage_id,)).fetchall())
        _delete(db, "stage", stage_id)
    return DeletedStage(journey_id, position, name, steps)


def delete_step(settings: Settings, step_id: int) -> DeletedStep:
    """Delete a step and its placements; returns what :func:`restore` needs."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        snapshot = _step_snapshot(db, step_id)
        _delete(db, "step", step_id)
    return snapshot


def restore(settings: Settings, deleted: DeletedStep | DeletedStage) -> None:
    """Undo a delete: the stage or step comes back at its place, with its steps and the metrics on them
    (metrics deleted meanwhile stay gone). Raises NotFound when its journey or stage is gone too."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        if isinstance(deleted, DeletedStage):
            _load(db, deleted.journey_id)
            stage_id = _insert_child(db, "stage", deleted.journey_id, deleted.name, deleted.position)
            steps = [(stage_id, step) for step in deleted.steps]
        else:
            _parent_of(db, "stage", deleted.stage_id)
            steps = [(deleted.stage_id, deleted)]
        for stage_id, step in steps:
            step_id = _insert_child(db, "step", stage_id, step.name, step.position)
            db.executemany(
                "INSERT INTO placements (metric_id, step_id, position) SELECT ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM metrics WHERE id = ?)",
                [(metric_id, step_id, i, metric_id) for i, metric_id in enumerate(step.metric_ids)])


# --- metric placements ------------------------------------------------------------------------------

def place_metric(settings: Settings, metric_id: int, step_id: int) -> None:
    """Show a metric on a step (idempotent). A metric can sit on many steps of many journeys."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        if not db.execute("SELECT 1 FROM metrics WHERE id = ?", (metric_id,)).fetchone():
            raise NotFound(f"Metric {metric_id} does not exist (it may have been deleted).")
        _parent_of(db, "step", step_id)
        position = db.execute("SELECT count(*) FROM placements WHERE step_id = ?", (step_id,)).fetchone()[0]
        db.execute(
            "INSERT INTO placements (metric_id, step_id, position) VALUES (?, ?, ?) "
            "ON CONFLICT (metric_id, step_id) DO NOTHING", (metric_id, step_id, position))


def remove_metric(settings: Settings, metric_id: int, step_id: int) -> None:
    """Take a metric off a step (the metric itself stays in the library)."""
    with connect(settings.store) as db, transaction(db):
        versions.bump(db)
        db.execute("DELETE FROM placements WHERE metric_id = ? AND step_id = ?", (metric_id, step_id))


def placements_of_metric(settings: Settings, metric_id: int) -> list[Placement]:
    """Every journey step a metric sits on, journeys by name, steps left to right."""
    with connect(settings.store) as db:
        return [_placement(r) for r in db.query(
            "SELECT j.id AS journey_id, j.name AS journey_name, g.id AS stage_id, g.name AS stage_name, "
            "s.id AS step_id, s.name AS step_name FROM placements p JOIN steps s ON s.id = p.step_id "
            "JOIN stages g ON g.id = s.stage_id JOIN journeys j ON j.id = g.journey_id "
            "WHERE p.metric_id = ? ORDER BY lower(j.name), g.position, s.position", [metric_id])]


def _placement(row: dict[str, Any]) -> Placement:
    return Placement(row["journey_id"], row["journey_name"], row["stage_id"], row["stage_name"],
                     row["step_id"], row["step_name"])


def parse_step_path(path: str) -> tuple[str, str]:
    """``"STAGE/STEP"`` (the command line's way to name a step) as ``(stage, step)``; a step name may hold
    further slashes, the stage name may not."""
    stage, sep, step = (path or "").partition("/")
    if not sep or not stage.strip() or not step.strip():
        raise Invalid(f"{path!r} is not STAGE/STEP; write the stage, a slash, then the step, e.g. "
                      "\"Onboarding/Sign up\".")
    return stage.strip(), step.strip()


@dataclass(frozen=True)
class EnsuredJourney:
    """What `ensure_journey` did: the journey as it now is, whether it is new, and the steps it added."""

    journey: Journey
    created: bool
    added: tuple[tuple[str, str], ...]


def ensure_journey(settings: Settings, name: str, steps: Sequence[tuple[str, str]]) -> EnsuredJourney:
    """The journey ``name`` with every ``(stage, step)`` of ``steps``: created if missing, otherwise completed.
    Stages and steps are appended in the order given; one that exists (same name, any case) is never added
    twice, so running the same command again changes nothing. One transaction: all or nothing."""
    name = _name(name, "journey")
    wanted = [(_name(stage, "stage"), _name(step, "step")) for stage, step in steps]
    with connect(settings.store) as db:
        with transaction(db):
            versions.bump(db)
            row = db.execute(
                "SELECT id FROM journeys WHERE name = ? OR lower(name) = lower(?) ORDER BY name = ? DESC LIMIT 1",
                (name, name, name)).fetchone()
            created = row is None
            if created:
                journey_id = db.insert_returning_id(
                    "INSERT INTO journeys (name, description, owner, created_at) VALUES (?, '', NULL, ?)",
                    (name, utcnow()))
            else:
                journey_id = row[0]
            added: list[tuple[str, str]] = []
            for stage_name, step_name in wanted:
                stage = db.execute(
                    "SELECT id FROM stages WHERE journey_id = ? AND lower(name) = lower(?) ORDER BY position LIMIT 1",
                    (journey_id, stage_name)).fetchone()
                stage_id = stage[0] if stage else _insert_child(db, "stage", journey_id, stage_name, None)
                if db.execute("SELECT 1 FROM steps WHERE stage_id = ? AND lower(name) = lower(?)",
                                   (stage_id, step_name)).fetchone():
                    continue
                _insert_child(db, "step", stage_id, step_name, None)
                added.append((stage_name, step_name))
        return EnsuredJourney(_load(db, journey_id), created, tuple(added))


def find_step(settings: Settings, journey_name: str, step_name: str) -> Step:
    """The step called ``step_name`` (or ``"STAGE/STEP"``) on the journey called ``journey_name``, names
    compared case-insensitively. Step names are unique in a journey, but a store written before that rule may
    hold one name in two stages: then the error says how to pick."""
    journey = journey_by_name(settings, journey_name)
    if journey is None:
        raise NotFound(f"No journey named {journey_name!r}; create it first or check the spelling.")
    wanted = step_name.strip().lower()
    matches = [(stage, step) for stage in journey.stages for step in stage.steps if step.name.lower() == wanted]
    if not matches and "/" in wanted:
        stage_name, step_only = parse_step_path(step_name)
        matches = [(stage, step) for stage in journey.stages for step in stage.steps
                   if stage.name.lower() == stage_name.lower() and step.name.lower() == step_only.lower()]
    if len(matches) == 1:
        return matches[0][1]
    if matches:
        choices = ", ".join(repr(f"{stage.name}/{step.name}") for stage, step in matches)
        raise Invalid(f"Journey {journey.name!r} has a step named {step_name!r} in {len(matches)} stages; "
                      f"name it with its stage: {choices}.")
    names = ", ".join(f"{stage.name}/{step.name}" for stage in journey.stages for step in stage.steps) or "none yet"
    raise NotFound(f"Journey {journey.name!r} has no step named {step_name!r} (steps: {names}).")
