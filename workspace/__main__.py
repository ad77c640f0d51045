"""``python -m workspace …``: see workspace.cli."""

import sys

from workspace.cli import main

sys.exit(main())
