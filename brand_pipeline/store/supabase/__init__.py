"""The store over a Supabase project's API: tables through PostgREST, creatives in Storage."""

from brand_pipeline.store.supabase.blobs import SupabaseBlobStore, open_supabase_blobs
from brand_pipeline.store.supabase.store import SupabaseStore, connect_supabase_store, open_supabase_client

__all__ = [
    "SupabaseBlobStore",
    "SupabaseStore",
    "connect_supabase_store",
    "open_supabase_blobs",
    "open_supabase_client",
]
