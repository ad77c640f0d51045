"""``python -m qualtrics``: check a Qualtrics connection from a shell (design.md section 5).

    python -m qualtrics surveys
    python -m qualtrics questions SURVEY_ID
    python -m qualtrics export SURVEY_ID --out FILE [--format csv|json]

Credentials: QUALTRICS_API_TOKEN with QUALTRICS_BASE_URL or QUALTRICS_DATACENTER; without a token, the
connection the app stored, through the ``stored_client`` function ``qualtrics/__main__.py`` passes in (the
composition root is the only module of this package allowed to import the workspace).
Failures print one line to stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import IO

from qualtrics.client import QualtricsClient
from qualtrics.errors import QualtricsError
from qualtrics.models import QuestionCatalog, Survey
from qualtrics.settings import QualtricsSettings

NO_CONNECTION = ("No Qualtrics connection: set QUALTRICS_API_TOKEN with QUALTRICS_BASE_URL (or "
                 "QUALTRICS_DATACENTER), or connect Qualtrics in the app (Settings > Integrations).")
_TEXT_WIDTH = 70


StoredClient = Callable[[Mapping[str, str]], QualtricsClient]


def client_from_environment(env: Mapping[str, str], stored_client: StoredClient | None = None) -> QualtricsClient:
    """API token from the environment first, else ``stored_client`` (the app's stored connection, supplied by
    ``qualtrics/__main__.py`` so that this module never imports the workspace)."""
    settings = QualtricsSettings.from_env(env)
    if settings.api_token:
        if settings.base_url is None:
            raise QualtricsError("QUALTRICS_API_TOKEN is set but not where to use it: set QUALTRICS_BASE_URL "
                                 "(e.g. https://fra1.qualtrics.com) or QUALTRICS_DATACENTER (e.g. fra1).")
        return QualtricsClient.with_api_token(settings.base_url, settings.api_token)
    if stored_client is None:
        raise QualtricsError(NO_CONNECTION)
    return stored_client(env)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces; the last column is not padded."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = []
    for row in [list(headers), *map(list, rows)]:
        cells = [cell.ljust(widths[i]) if i < len(row) - 1 else cell for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _clip(text: str, width: int = _TEXT_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def surveys_table(surveys: Sequence[Survey]) -> str:
    rows = [(s.id, "active" if s.is_active else "inactive", s.last_modified, _clip(s.name)) for s in surveys]
    return format_table(("ID", "STATUS", "LAST MODIFIED", "NAME"), rows)


def questions_table(catalog: QuestionCatalog) -> str:
    rows = []
    for q in catalog.questions:
        text = f"{q.text} - {q.row_label}" if q.row_label else q.text
        scale = q.scale.kind if q.scale.kind != "other" or q.scale.minimum is None else \
            f"other {q.scale.minimum:g}-{q.scale.maximum:g}"
        rows.append((q.id, q.export_tag, f"{q.type}/{q.selector}", scale, q.suggested_type or "-", _clip(text)))
    out = format_table(("ID", "TAG", "TYPE", "SCALE", "SUGGESTED", "TEXT"), rows)
    if catalog.skipped:
        skipped = [(s.id, s.export_tag, f"{s.type}/{s.selector}", s.reason) for s in catalog.skipped]
        out += "\n\nSkipped:\n" + format_table(("ID", "TAG", "TYPE", "REASON"), skipped)
    return out


class ProgressLine:
    """``export 40%`` on stderr: rewritten in place on a terminal, one line per stage otherwise."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last: tuple[str, int] | None = None

    def __call__(self, stage: str, fraction: float) -> None:
        percent = int(fraction * 100)
        if self.tty:
            if (stage, percent) != self._last:
                self.stream.write(f"\r{stage:<8} {percent:3d}%")
                self.stream.flush()
        elif self._last is None or stage != self._last[0] or percent == 100 and self._last[1] != 100:
            self.stream.write(f"{stage} {percent}%\n")
        self._last = (stage, percent)

    def done(self) -> None:
        if self.tty and self._last is not None:
            self.stream.write("\n")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m qualtrics", description="Check a Qualtrics connection.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("surveys", help="every survey the account can see (all pages)")
    questions = commands.add_parser("questions", help="trackable questions, matrix rows as QIDn_m, with scale")
    questions.add_argument("survey_id", metavar="SURVEY_ID")
    export = commands.add_parser("export", help="download a response export")
    export.add_argument("survey_id", metavar="SURVEY_ID")
    export.add_argument("--out", required=True, metavar="FILE", help="where to write the export file")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--question", action="append", default=[], metavar="QID",
                        help="only these questions (repeatable); default: all")
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
         stdout: IO[str] | None = None, stderr: IO[str] | None = None,
         stored_client: StoredClient | None = None) -> int:
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = _parser().parse_args(argv)
    try:
        with client_from_environment(os.environ if env is None else env, stored_client) as client:
            if args.command == "surveys":
                print(surveys_table(client.surveys()), file=stdout)
            elif args.command == "questions":
                print(questions_table(client.question_catalog(args.survey_id)), file=stdout)
            else:
                progress = ProgressLine(stderr)
                export = client.export_responses(args.survey_id, args.question, fmt=args.format,
                                                 progress=progress)
                path = export.save(args.out)
                progress.done()
                print(f"wrote {path} ({path.stat().st_size:,} bytes)", file=stderr)
    except QualtricsError as exc:
        print(f"error: {exc}", file=stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=stderr)
        return 130
    except OSError as exc:
        print(f"error: {exc.strerror or exc} ({exc.filename or 'I/O'})", file=stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - the contract is one line, never a traceback
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=stderr)
        return 1
    return 0
