"""Where each page's script is, for links and page switches.

Paths are absolute because Streamlit resolves relative ones against the main script's folder
(ui/), not against the project root.
"""

from __future__ import annotations

from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"

JOURNEYS = str(PAGES_DIR / "journeys.py")
METRICS_LIBRARY = str(PAGES_DIR / "metrics_library.py")
LIVE = str(PAGES_DIR / "live.py")
DATA_HUB = str(PAGES_DIR / "data_hub.py")
INTEGRATIONS = str(PAGES_DIR / "integrations.py")
NEW_METRIC = str(PAGES_DIR / "new_metric.py")
METRIC = str(PAGES_DIR / "metric.py")
