"""Circulation pages: the staff desk, inter-library loans, and the readers' own pages."""
