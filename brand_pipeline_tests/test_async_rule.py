"""The async rule: every client is opened and closed inside the coroutine that uses it."""

from __future__ import annotations

import gc
import os
import warnings
from pathlib import Path

from brand_pipeline.aio import run_async
from brand_pipeline.store.models import CopyToAnalyse
from brand_pipeline_tests.fakes.gemini import FakeGemini
from brand_pipeline_tests.helpers import resources_for


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_two_hundred_event_loops_leak_no_sockets_and_warn_nothing(
    database_url: str, tmp_path: Path, sample_dir: Path
) -> None:
    with FakeGemini(api_key="k") as fake:
        resources = resources_for(
            database_url, tmp_path / "home", sample_dir, api_key="k", base_url=fake.base_url, requests_per_minute=60000
        )

        async def one_run() -> str:
            # What one asset run does: store, model client, media HTTP client, all in this loop.
            async with resources["supabase"].open() as storage, resources["gemini"].open() as analyser:
                async with resources["ad_library"].open(storage.blobs.staging_dir()):
                    await storage.store.list_brands()
                    result = await analyser.analyse_copy(CopyToAnalyse(copy_hash="c", copy_text="hi", ad_ids=[]), {})
            return result.status

        for _ in range(5):  # warm-up: imports, the migration check, lazily created files
            run_async(one_run())
        gc.collect()
        before = _open_fds()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            statuses = {run_async(one_run()) for _ in range(200)}
            gc.collect()
        after = _open_fds()
    assert statuses == {"done"}, "every loop got a working client, none a dead one"
    assert after - before <= 2, f"file descriptors grew from {before} to {after}"
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
