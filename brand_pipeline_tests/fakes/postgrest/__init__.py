"""A local Supabase API for tests: PostgREST and Storage over HTTP, executed on a real Postgres.

supabase-py (checked with 2.34: postgrest 2.34.1, storage3 2.34.1) talks to it unchanged::

    fake = FakeSupabase(database_url)          # roles anon/authenticated/service_role made if missing
    async with httpx.AsyncClient() as http:
        client = await acreate_client(fake.base_url, fake.service_key,
                                      options=AsyncClientOptions(httpx_client=http))
        await client.table("ads").upsert(rows, on_conflict="ad_id").execute()
    assert len(fake.requests_to("POST", "/rest/v1/ads")) == 1
    fake.fail("POST", "/rest/v1/ads", 503, times=2)   # the next two upserts fail
    fake.stop()

``fake.anon_key`` acts as ``anon`` (row-level security applies); ``fake.service_key`` as
``service_role`` (BYPASSRLS). ``fake.max_rows`` is PostgREST's max-rows cap (1,000 by default).
"""

from .auth import ProjectKeys
from .errors import PostgrestError
from .server import FakeSupabase, Fault, RecordedRequest

__all__ = ["FakeSupabase", "Fault", "PostgrestError", "ProjectKeys", "RecordedRequest"]
