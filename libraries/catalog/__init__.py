"""The union catalog: records, barcoded items, MARC21 in and out, search, spine labels."""
