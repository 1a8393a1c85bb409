"""Harvesting member libraries' own catalogs (Koha, DSpace, another instance) over OAI-PMH."""
