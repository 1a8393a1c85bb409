"""Teacher classes: students without email, assignments, login cards."""
