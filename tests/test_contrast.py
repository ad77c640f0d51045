"""WCAG AA contrast (4.5:1 for text, 3:1 for UI parts) in both themes, computed from the colours the app
really uses: .streamlit/config.toml's themes, the primary-button label colours of ui/frame.py and the
journey lane's palette in ui/cards.py."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ui.cards import LANE_PALETTE, LANE_TEXT_PAIRS
from ui.frame import FRAME_STYLE, PRIMARY_BUTTON_TEXT

CONFIG = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
THEMES = ("light", "dark")


def luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of #RRGGBB."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_known_values():
    assert contrast("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast("#FFFFFF", "#56B4E9") == pytest.approx(2.31, abs=0.01), "the issue's dark-theme button"


@pytest.mark.parametrize("theme", THEMES)
def test_body_text_and_links_read_on_both_backgrounds(theme):
    colours = CONFIG["theme"][theme]
    for background in (colours["backgroundColor"], colours["secondaryBackgroundColor"]):
        assert contrast(colours["textColor"], background) >= 4.5
        assert contrast(colours.get("linkColor", colours["primaryColor"]), background) >= 4.5
        assert contrast(colours["primaryColor"], background) >= 3.0, "focus rings, toggles, tab marks"


@pytest.mark.parametrize("theme", THEMES)
def test_primary_button_labels_read_on_the_primary_colour(theme):
    colours = CONFIG["theme"][theme]
    assert contrast(PRIMARY_BUTTON_TEXT[theme], colours["primaryColor"]) >= 4.5
    assert PRIMARY_BUTTON_TEXT[theme] in FRAME_STYLE


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("name", LANE_TEXT_PAIRS)
def test_lane_text_reads_on_its_card_and_on_the_page(theme, name):
    palette = LANE_PALETTE[theme]
    assert palette["card"] in (CONFIG["theme"][theme]["backgroundColor"], CONFIG["theme"][theme]["secondaryBackgroundColor"])
    assert contrast(palette[name], palette["card"]) >= 4.5
    assert contrast(palette[name], CONFIG["theme"][theme]["backgroundColor"]) >= 4.5
