"""``python -m workspace``: the workspace commands of design.md §5 (a contract), for cron and scripts.

    metrics [--json]                       id, title, type, survey, question, score, n, last sync
    journeys [--json]                      journeys with their stages and steps, in order
    add-journey NAME --step "STAGE/STEP" [--step …]   creates, or adds missing steps; never duplicates
    add-metric --survey SV_… --question QID… --type nps|csat|ces [--title T] [--journey NAME --step NAME]
    sync [--metric ID | --all]             incremental; progress on stderr
    worker [--once] [--lease S]            scheduled syncs, Live refreshes, Data Hub mining (until SIGTERM)
    score FILE --type … --question QID… [--definition QSF]   (workspace.score_file)
    migrate                                creates or upgrades the store's schema (once, before rolling servers)
    move-store --to postgresql://… [--from PATH]   copies the SQLite store into an empty PostgreSQL database

Qualtrics is reached with ``QUALTRICS_API_TOKEN`` (+ base URL or data center) when set, else with the
connection the app stored in its store (``PULSE_DB``, or ``PULSE_DATABASE_URL``). Every failure is one
sentence on stderr and exit code 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from qualtrics.errors import QualtricsError
from workspace import jobs, store
from workspace.config import ConfigError, Settings
from workspace.crypto import SecretKeyError
from workspace.errors import NotFound, WorkspaceError

if TYPE_CHECKING:
    from workspace.journeys import Journey

# What a command needs beyond the store it imports when it runs: pandas and numpy (scores, the sync's
# parser, score files) cost most of a second and requests a fifth of one, while `sync --all` with nothing
# new takes a tenth once imported (tests/test_cli_imports.py keeps this module free of them).

METRIC_TYPES = ("nps", "csat", "ces")


class CommandError(Exception):
    """A one-sentence reason to stop."""


def _settings() -> Settings:
    return Settings.load()


def cmd_metrics(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import scores

    settings = _settings()
    rows = []
    for card in scores.metric_cards(settings):
        rows.append({
            "id": card.metric_id, "title": card.title, "type": card.type, "survey": card.survey_id,
            "question": card.question_id, "score": card.score.value, "display": card.display,
            "n": card.n, "last_sync": card.last_sync})
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False), file=out)
        return 0
    if not rows:
        print("No metrics yet. Add one with: python -m workspace add-metric --survey SV_… --question QID… "
              "--type nps", file=out)
        return 0
    header = ("ID", "TYPE", "SCORE", "N", "LAST SYNC", "SURVEY", "QUESTION", "TITLE")
    table = [header] + [(str(r["id"]), r["type"].upper(), r["display"], f"{r['n']:,}", r["last_sync"] or "never",
                         r["survey"], r["question"], r["title"]) for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    for line in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1], file=out)
    return 0


def _journey_json(journey: Journey) -> dict[str, Any]:
    return {"id": journey.id, "name": journey.name, "description": journey.description,
            "stages": [{"id": stage.id, "name": stage.name,
                        "steps": [{"id": step.id, "name": step.name, "metrics": list(step.metric_ids)}
                                  for step in stage.steps]}
                       for stage in journey.stages]}


def _print_journey(journey: Journey, out: TextIO) -> None:
    print(journey.name, file=out)
    if not journey.stages:
        print("  (no stages yet)", file=out)
    for stage in journey.stages:
        print(f"  {stage.name}", file=out)
        for step in stage.steps:
            placed = f"  (metrics {', '.join(map(str, step.metric_ids))})" if step.metric_ids else ""
            print(f"    - {step.name}{placed}", file=out)


def cmd_journeys(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import journeys

    found = journeys.list_journeys(_settings())
    if args.json:
        for journey in found:
            print(json.dumps(_journey_json(journey), ensure_ascii=False), file=out)
        return 0
    if not found:
        print('No journeys yet. Add one with: python -m workspace add-journey NAME --step "STAGE/STEP"', file=out)
        return 0
    for journey in found:
        _print_journey(journey, out)
    return 0


def cmd_add_journey(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import journeys

    steps = [journeys.parse_step_path(path) for path in args.step]
    done = journeys.ensure_journey(_settings(), args.name, steps)
    added = "; ".join(f"{stage}/{step}" for stage, step in done.added)
    if done.created:
        print(f"Created journey {done.journey.name!r} with {len(done.journey.stages)} stage(s) and "
              f"{len(done.journey.steps)} step(s): {added}.", file=out)
    elif done.added:
        print(f"Journey {done.journey.name!r}: added {len(done.added)} step(s): {added}.", file=out)
    else:
        print(f"Journey {done.journey.name!r} already has every step given; nothing changed.", file=out)
    return 0


def cmd_add_metric(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import journeys, metrics
    from workspace.catalog import refresh_questions
    from workspace.connection import open_client, reporting_auth_failures

    settings = _settings()
    if bool(args.journey) != bool(args.step):
        raise CommandError("Give --journey and --step together (the step of that journey to place the metric on).")
    step = journeys.find_step(settings, args.journey, args.step) if args.journey else None
    with reporting_auth_failures(settings), open_client(settings) as client:
        questions = refresh_questions(settings, client, args.survey)
    if args.question not in {q.id for q in questions}:
        listed = ", ".join(q.id for q in questions) or "none"
        raise CommandError(f"Survey {args.survey} has no trackable rating question {args.question} "
                           f"(trackable: {listed}).")
    metric = metrics.create_metric(settings, args.survey, args.question, args.type, title=args.title)
    if step is not None:
        journeys.place_metric(settings, metric.id, step.id)
    where = f", on step {args.step!r} of {args.journey!r}" if step else ""
    print(f"Added metric {metric.id}: {metric.title} ({metric.survey_id} {metric.question_id}){where}. "
          f"Fetch its answers with: python -m workspace sync --metric {metric.id}", file=out)
    return 0


class _ProgressLine:
    """One overwritten line on stderr per survey: ``SV_… export 40%``."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.survey = ""
        self.shown = ""

    def __call__(self, stage: str, fraction: float) -> None:
        text = f"{self.survey} {stage} {fraction:.0%}"
        if text != self.shown:
            self.shown = text
            self.err.write(f"\r{text:<60}")
            self.err.flush()

    def done(self, result: Any) -> None:  # a workspace.sync.SyncResult
        self.err.write("\r" + " " * 60 + "\r")
        if result.status == "succeeded":
            extra = f", backfilled {', '.join(result.backfilled)}" if result.backfilled else ""
            self.err.write(f"{result.survey_id}: {result.responses:,} responses exported, {result.answers:,} "
                           f"answers stored{extra} ({result.seconds:.1f} s)\n")
        else:
            self.err.write(f"{result.survey_id}: {result.status}: {result.message}\n")
        self.err.flush()


def cmd_sync(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import metrics
    from workspace.sync import SyncResult, sync_all, sync_metric

    settings = _settings()
    line = _ProgressLine(err)
    if args.metric is not None:
        metric = metrics.get_metric(settings, args.metric)
        line.survey = metric.survey_id
        results = [sync_metric(settings, args.metric, progress=line, trigger="cli", wait=args.wait)]
        line.done(results[0])
    else:
        if not metrics.list_metrics(settings):
            print("No metrics to sync yet; add one with python -m workspace add-metric.", file=err)
            return 0

        def progress(stage: str, fraction: float) -> None:
            line(stage, fraction)

        pending = sorted(metrics.tracked_surveys(settings))
        line.survey = pending[0] if pending else ""

        def on_result(result: SyncResult) -> None:
            line.done(result)
            following = pending.index(result.survey_id) + 1
            line.survey = pending[following] if following < len(pending) else ""

        results = sync_all(settings, progress=progress, trigger="cli", wait=args.wait, on_result=on_result)
        if results and all(r.run_id is None and r.status == "failed" for r in results):
            raise CommandError(results[0].message or "The sync could not start.")
    return 0 if all(r.ok for r in results) else 1  # failed or cancelled


def cmd_migrate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    location = _settings().store
    before = store.current_revision(location)
    applied = store.migrate(location)
    if applied or before != store.HEAD:
        steps = ", ".join(applied) if applied else "its first Alembic revision stamp"
        print(f"Migrated {location.describe()} from revision {before or 'of an SQLite-only release'}: applied "
              f"{steps}; now at revision {store.HEAD}.", file=out)
    else:
        print(f"{location.describe()} is already at revision {store.HEAD}; nothing to do.", file=out)
    return 0


class _MoveProgress:
    """One overwritten line on stderr per table, shown only for tables large enough to take a while."""

    SHOWN_FROM_ROWS = 20_000

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.showing = False
        self.shown: tuple[str, int] | None = None

    def __call__(self, table: str, copied: int, total: int) -> None:
        if total < self.SHOWN_FROM_ROWS or self.shown == (table, percent := copied * 100 // total):
            return
        self.shown = (table, percent)
        self.showing = copied < total
        self.err.write(f"\r{table}: {copied:,} of {total:,} rows ({percent}%)".ljust(60)
                       + ("" if self.showing else "\n"))
        self.err.flush()


def cmd_move_store(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace.store import move

    settings = _settings()
    source = args.source or settings.db_path
    line = _MoveProgress(err)
    try:
        report = move.move_store(source, args.to, progress=line)
    except KeyboardInterrupt:
        if line.showing:
            err.write("\n")
        print("Error: interrupted; nothing was kept: the PostgreSQL database is empty again (its schema stays) and "
              "the SQLite store is unchanged. Run the same command again to start over.", file=err)
        return 130
    except (move.MoveRefused, move.MoveFailed) as exc:
        raise CommandError(str(exc)) from None
    print(f"Copied {report.source.describe()} into {report.target.describe()} (schema revision {report.revision}); "
          "every table's rows counted on both sides:", file=out)
    print(move.format_report(report), file=out)
    print(move.key_reminder(report, bool(settings.secret_key), settings.key_path), file=out)
    print("Next: set PULSE_DATABASE_URL to that database on every server and the worker. The SQLite file is "
          "left as it was; keep it as a backup but do not run servers on it any more.", file=out)
    return 0


def cmd_worker(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace import worker

    settings = _settings()
    worker.log_to_stderr()
    if args.lease <= 1:
        raise CommandError("--lease must be more than 1 second (the heartbeat renews it six times per lease).")
    results = worker.run(settings, once=args.once, lease=args.lease)
    # --once (cron) says whether what was due went well; a worker stopped by a signal stopped cleanly.
    return 0 if not args.once or all(r.ok for r in results) else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m workspace", description="Journey Pulse workspace commands.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("metrics", help="list metrics with their scores")
    p.add_argument("--json", action="store_true", help="one JSON object per metric")
    p.set_defaults(handler=cmd_metrics)

    p = sub.add_parser("journeys", help="list journeys with their stages and steps")
    p.add_argument("--json", action="store_true", help="one JSON object per journey")
    p.set_defaults(handler=cmd_journeys)

    p = sub.add_parser("add-journey", help="create a journey, or add the steps it is missing")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--step", action="append", required=True, metavar="STAGE/STEP",
                   help='a step and its stage, e.g. "Onboarding/Sign up" (repeatable; kept in the order given)')
    p.set_defaults(handler=cmd_add_journey)

    p = sub.add_parser("add-metric", help="track a survey question as a metric")
    p.add_argument("--survey", required=True, metavar="SV_…")
    p.add_argument("--question", required=True, metavar="QID…",
                   help="QIDn; QIDn_m for a matrix row, QIDn_x4 for a carried-forward row, 2_QIDn for loop 2 "
                        "of a loop & merge block")
    p.add_argument("--type", required=True, choices=METRIC_TYPES)
    p.add_argument("--title")
    p.add_argument("--journey", metavar="NAME")
    p.add_argument("--step", metavar="NAME", help='a step of that journey: its name, or "STAGE/STEP"')
    p.set_defaults(handler=cmd_add_metric)

    p = sub.add_parser("sync", help="fetch new responses (incremental) and re-score")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--metric", type=int, metavar="ID", help="sync the survey of one metric")
    which.add_argument("--all", action="store_true", help="sync every survey with metrics (the default)")
    p.add_argument("--wait", type=float, default=60.0, metavar="SECONDS",
                   help="how long to wait for another sync of the same survey to finish (default 60)")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("migrate", help="create or upgrade the store's schema (run once before upgrading servers)")
    p.set_defaults(handler=cmd_migrate)

    p = sub.add_parser("move-store", help="copy the SQLite store into an empty PostgreSQL database")
    p.add_argument("--to", required=True, metavar="postgresql://…", help="the empty PostgreSQL database")
    p.add_argument("--from", dest="source", type=Path, metavar="PATH",
                   help="the SQLite store to copy (default: PULSE_DB)")
    p.set_defaults(handler=cmd_move_store)

    p = sub.add_parser("worker", help="run the background work: scheduled syncs, Live refreshes, Data Hub mining",
                       description="Runs until SIGTERM or Ctrl-C, then gives back its claims. Any number of workers "
                                   "may share one store; each survey is synced once per PULSE_SYNC_INTERVAL.")
    p.add_argument("--once", action="store_true", help="run what is due now, then exit (tests, cron)")
    p.add_argument("--lease", type=float, default=jobs.LEASE_SECONDS, metavar="SECONDS",
                   help=f"how long a claim holds without a heartbeat before another worker may take it over "
                        f"(default {jobs.LEASE_SECONDS:.0f})")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser(
        "score", help="score one question of a Qualtrics export file with the default mapping",
        description="Score one question of a Qualtrics export file (CSV with three header rows, JSON or "
        "NDJSON; zipped or not; values or labels) with the default answer mapping, taken from the survey "
        "definition when --definition is given, else from the labels the file carries, else inferred from "
        "the answers (the output says which).")
    configure_score_parser(p)
    p.set_defaults(handler=_run_score)
    return parser


def configure_score_parser(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``score`` (also of ``python -m workspace.score_file``)."""
    parser.add_argument("file", metavar="FILE", help="the export file (.csv, .json, .ndjson or a .zip of one)")
    parser.add_argument("--type", required=True, choices=METRIC_TYPES, dest="metric_type", help="metric type")
    parser.add_argument("--question", required=True, nargs="+", action="extend", metavar="QID",
                        help="question id(s) as in the export (QID5, matrix row QID7_3, or QID5_NPS_GROUP)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per question instead of text")
    parser.add_argument("--exclude", action="append", default=[], metavar="VALUE",
                        help="an exported value that means N/A (repeatable), for value exports without labels")
    parser.add_argument("--definition", metavar="FILE", default=None,
                        help="the survey's definition (a .qsf, or a saved survey-definitions / GET surveys "
                        "response) to map answers exactly: recodes, N/A choices, the real scale")


def _run_score(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from workspace.score_file import run_score

    return run_score(args, out, err)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    args = build_parser().parse_args(argv)
    handler: Any = args.handler
    if args.command == "score":
        return handler(args, out, err)
    try:
        return handler(args, out, err)
    except (CommandError, WorkspaceError, QualtricsError, ConfigError, SecretKeyError) as exc:
        print(f"Error: {exc}", file=err)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted; run the command again to continue where it stopped.", file=err)
        return 130
    except Exception as exc:  # never a bare traceback: say what broke in one line
        print(f"Error: {type(exc).__name__}: {exc}", file=err)
        return 1


__all__ = ["NotFound", "build_parser", "main"]
