"""Class reports, library and network dashboards, their exports and charts (read-only)."""
