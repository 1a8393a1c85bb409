"""The permission matrix's library tree (tests/courses/training/staff.py)."""

from tests.courses.training.staff import tree  # noqa: F401  (fixture)
