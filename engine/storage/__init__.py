"""Persistence: table definitions, database connection and the unit of work."""
