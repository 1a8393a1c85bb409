"""The permission matrix's library tree and logged-in member (tests/courses/training/staff.py)."""

from tests.courses.training.staff import member_client, tree  # noqa: F401  (fixtures)
