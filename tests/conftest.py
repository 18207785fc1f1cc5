"""Tests mirror the package (tests/<package>/); helpers shared by several of them live in tests/support/."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "support"))
