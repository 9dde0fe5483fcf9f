"""The store over any Postgres: the embedded default, a local server, or a Supabase database URL."""

from brand_pipeline.store.postgres.store import PostgresStore, open_postgres_store

__all__ = ["PostgresStore", "open_postgres_store"]
