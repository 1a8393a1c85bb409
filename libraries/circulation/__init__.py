"""Circulation: reader cards, rules, loans, holds, transfers, inter-library loans, the desk,
notices."""
