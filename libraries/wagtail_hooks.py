import libraries.admin_catalog  # noqa: F401  (catalog screens)
