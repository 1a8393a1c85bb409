"""Where the suite's real fixture files live (tests/fixtures/, see PROVENANCE.md there)."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
