"""Entry point of ``python -m qualtrics`` (see qualtrics.cli)."""

from qualtrics.cli import main

raise SystemExit(main())
