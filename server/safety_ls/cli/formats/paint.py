"""ANSI colour for the human formats, one colour per severity."""

from __future__ import annotations

import os
import sys

from safety_ls.core.findings import Severity

SEVERITY_COLOURS = {Severity.ERROR: "31", Severity.WARNING: "33", Severity.INFO: "36", Severity.HINT: "36"}
BOLD = "1"


def paint(text: str, code: str, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour else text


def colour_wanted() -> bool:
    """Colour on a terminal, unless NO_COLOR is set; always with FORCE_COLOR."""
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ or "FORCE_COLOR" in os.environ
