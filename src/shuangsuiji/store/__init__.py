"""The store: one SQLite file by default, or a SQLAlchemy URL."""
