"""The network: the library tree, who works where, schools asking to join, and the staff
screens that decide requests from outside (join requests, reader card applications)."""
