"""SQL implementations of ``GraphStore``: one shared store, thin SQLite and PostgreSQL hooks."""
