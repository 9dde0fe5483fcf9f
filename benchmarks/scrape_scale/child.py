"""One child process of the scrape benchmark: one scrape of a brand, run as the ``scraped_ads`` asset
runs it (a Dagster step is a fresh process too), and what it cost. Started by ``run_child``; prints
its figures as one JSON line.

    python -m benchmarks.scrape_scale.child '<ChildSpec as JSON>'
"""

from __future__ import annotations

import asyncio
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from brand_pipeline.resources.ad_library import AdLibraryResource, ApifyConfig, MetaConfig
from brand_pipeline.resources.supabase import SupabaseResource
from brand_pipeline.sources.scrape import scrape_brand

TOKEN = "bench-token-0123456789abcdef"  # what the fake Apify and Graph servers accept
META_PAGE_SIZE = 200  # fewer round trips to the fake; what the source holds does not depend on it


class ChildSpec(BaseModel):
    """One child process: one scrape of one brand from one source."""

    dsn: str
    home: str
    slug: str
    source: Literal["file", "apify", "meta"]
    endpoint: str  # the export folder, the Apify API or the Graph API
    run_key: str  # the Dagster run it stands for (Apify: a new run_key starts a new actor run)
    concurrency: int


class ScrapeFigures(BaseModel):
    seconds: float
    peak_rss_mb: float  # the child's high-water mark (VmHWM) once this scrape ended
    ru_maxrss_mb: float  # getrusage's figure, which on Linux also counts the parent at spawn time
    counts: dict[str, int]


def peak_rss_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``, KiB in ``/proc``).

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps, across exec, the high-water mark of the
    memory the process had before it, i.e. the parent's at spawn time. Our parent holds every ad the
    fakes serve, so ru_maxrss would grow with the brand whatever the scrape does."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status (this benchmark needs Linux)")


def ad_library(spec: ChildSpec) -> AdLibraryResource:
    local_cdn: dict[str, Any] = {
        "home": spec.home,
        "media_hosts": ["127.0.0.1"],
        "allow_plain_http_media": True,
        "allow_private_media_hosts": True,
        "download_concurrency": spec.concurrency,
    }
    if spec.source == "file":
        return AdLibraryResource(source="file", export_dir=spec.endpoint, **local_cdn)
    if spec.source == "apify":
        apify = ApifyConfig(api_url=spec.endpoint, count=1_000_000, retry_backoff_s=0.05)
        return AdLibraryResource(source="apify", apify_token=TOKEN, apify=apify, **local_cdn)
    meta = MetaConfig(base_url=spec.endpoint, reached_countries=["DE"], page_size=META_PAGE_SIZE)
    return AdLibraryResource(source="meta", meta_access_token=TOKEN, meta=meta, **local_cdn)


async def scrape(spec: ChildSpec) -> ScrapeFigures:
    """Timed as the step runs it: open the store and the library, scrape, close them."""
    supabase = SupabaseResource(database_url=spec.dsn, home=spec.home)
    library = ad_library(spec)
    started = time.perf_counter()
    async with supabase.open() as storage:
        staging = storage.blobs.staging_dir()
        async with library.open(staging, store=storage.store, run_key=spec.run_key) as lib:
            report = await scrape_brand(
                await storage.store.ensure_brand(spec.slug),
                source=lib.source,
                fetcher=lib.fetcher,
                store=storage.store,
                blobs=storage.blobs,
                run_id=spec.run_key,
                concurrency=library.download_concurrency,
            )
    seconds = time.perf_counter() - started
    ru_maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return ScrapeFigures(seconds=seconds, peak_rss_mb=peak_rss_mb(), ru_maxrss_mb=ru_maxrss_mb, counts=report.counts())


def run_child(spec: ChildSpec) -> ScrapeFigures:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.scrape_scale.child", spec.model_dump_json()],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        check=True,
    )
    return ScrapeFigures.model_validate_json(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    print(asyncio.run(scrape(ChildSpec.model_validate_json(sys.argv[1]))).model_dump_json())
