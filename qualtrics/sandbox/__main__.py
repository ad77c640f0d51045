"""``python -m qualtrics.sandbox [--port N] [--seed N] [--responses N] [--live] [--redirect-uri URI]...
[--definitions DIR]``

Prints the four ``KEY=value`` lines of design.md §4 (paste them into a shell), then serves until Ctrl-C or SIGTERM.
``--definitions DIR`` adds every QSF file of DIR as a survey of the account; files it cannot read are named on
stderr and left out.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .app import Sandbox, default_redirect_uri


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m qualtrics.sandbox", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the demo data (default 7)")
    parser.add_argument("--responses", type=int, default=None, help="responses of the NPS survey (default 1500)")
    parser.add_argument("--live", action="store_true", help="keep adding responses every few seconds")
    parser.add_argument("--live-interval", type=float, default=3.0, metavar="SECONDS",
                        help="seconds between live responses (default 3)")
    parser.add_argument("--redirect-uri", action="append", default=None,
                        help="allowed OAuth redirect URI (repeatable; default $PULSE_URL/api/qualtrics/callback)")
    parser.add_argument("--definitions", metavar="DIR", default=None,
                        help="add every .qsf file of DIR as a survey (served as the file has it, with responses)")
    args = parser.parse_args(argv)
    if args.responses is not None and args.responses < 0:
        parser.error("--responses must not be negative")
    if args.live_interval <= 0:
        parser.error("--live-interval must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # handlers first: a Ctrl-C or SIGTERM that arrives right after the four lines still stops cleanly
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        sandbox = Sandbox(seed=args.seed, responses=args.responses, live=args.live, live_interval=args.live_interval,
                          redirect_uris=tuple(args.redirect_uri or [default_redirect_uri()]),
                          definitions=args.definitions)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    for problem in sandbox.definition_problems:
        print(f"Skipped {problem}", file=sys.stderr)
    for survey in sandbox.imported:
        print(f"Loaded {survey.id} {survey.name!r} ({len(survey.questions)} answer columns)", file=sys.stderr)
    try:
        sandbox.start(port=args.port)
    except OSError as exc:
        sandbox.stop()
        print(f"Cannot listen on 127.0.0.1:{args.port}: {exc.strerror}. Choose another --port.", file=sys.stderr)
        return 2
    try:
        for key, value in sandbox.env().items():
            print(f"{key}={value}")
        sys.stdout.flush()
        stop.wait()
    finally:
        sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
