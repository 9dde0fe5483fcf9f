"""The download pipeline of a scrape (``CreativeDownloads``): the caller hands over a batch and reads
on while it downloads, a download gives its slot to the next one as soon as its bytes are in, and
nothing runs ahead without bound: a batch of new media waits for the previous batch to start."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from brand_pipeline.domain.ads import AdRecord
from brand_pipeline.domain.brands import Brand
from brand_pipeline.sources.ad_items import parse_ad_item
from brand_pipeline.sources.downloads import CreativeDownloads
from brand_pipeline.sources.media import MediaFetcher, MediaPolicy
from brand_pipeline.sources.pinned_http import pinned_client
from brand_pipeline.store.blobs import LocalBlobStore
from brand_pipeline.store.postgres import open_postgres_store
from brand_pipeline.store.protocol import BrandStore
from brand_pipeline_tests.fakes.cdn import FakeCDN

LOCAL_CDN = MediaPolicy(allow_plain_http=True, allow_private_networks=True, allowed_hosts=("127.0.0.1",))


class ClosedFileWork(ThreadPoolExecutor):
    """File work (writing and checking a received creative) that waits while the gate is closed."""

    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.gate = threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def when_open() -> Any:
            self.gate.wait(10)
            return fn(*args, **kwargs)

        return super().submit(when_open)


def creatives(cdn: FakeCDN, count: int) -> list[str]:
    """URLs of ``count`` distinct small JPEGs on the CDN."""
    urls = []
    for n in range(count):
        buffer = io.BytesIO()
        Image.new("RGB", (16, 16), (40 * n, 200, 90)).save(buffer, format="JPEG")
        urls.append(cdn.serve(f"/c/{n}.jpg", buffer.getvalue(), "image/jpeg"))
    return urls


def ads_showing(urls: list[str], first_id: int) -> list[AdRecord]:
    return [
        parse_ad_item({"ad_archive_id": str(first_id + n), "snapshot": {"images": [{"original_image_url": url}]}})
        for n, url in enumerate(urls)
    ]


async def until(condition: Callable[[], bool], what: str) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def test_batches_are_handed_over_while_downloads_wait_and_each_slot_moves_on_once_its_bytes_are_in(
    database_url: str, tmp_path: Path
) -> None:
    file_work = ClosedFileWork()

    async def scrape(store: BrandStore, urls: list[str]) -> tuple[CreativeDownloads, set[tuple[str, str]]]:
        first, then_new, then_known = ads_showing(urls[:3], 100), ads_showing(urls[3:], 200), ads_showing(urls, 300)
        await store.upsert_brands([Brand(slug="acme", name="Acme")])
        await store.upsert_ads("acme", first + then_new + then_known)
        blobs = LocalBlobStore(tmp_path / "blobs")
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            fetcher = MediaFetcher(staging_dir=blobs.staging_dir(), policy=LOCAL_CDN, http=http, file_work=file_work)
            downloads = CreativeDownloads(
                "acme", "scraped_ads", fetcher=fetcher, store=store, blobs=blobs, run_id="run-1", concurrency=1
            )
            async with downloads:
                # One download at a time, and the first creative's check is held: handing over
                # does not wait for any of it.
                await asyncio.wait_for(downloads.want(first), 5)
                await until(lambda: len(cdn.requests) == 2, "the second download, while the first is checked")
                await asyncio.sleep(0.2)
                assert len(cdn.requests) == 2, "the third waits: the second holds its slot until one is stored"
                new_media = asyncio.create_task(downloads.want(then_new))
                await asyncio.wait_for(downloads.want(then_known), 5)  # all on the way already: never waits
                assert not new_media.done(), "a batch of new media waits until the previous batch has started"
                file_work.gate.set()
                await new_media
        ad_ids = [ad.ad_archive_id for ad in first + then_new + then_known]
        return downloads, await store.stored_slots(ad_ids)

    async def main() -> tuple[CreativeDownloads, set[tuple[str, str]]]:
        async with open_postgres_store(database_url) as store:
            return await scrape(store, creatives(cdn, 4))

    with FakeCDN() as cdn, file_work:
        downloads, stored = asyncio.run(main())
    assert downloads.outcomes == []
    assert downloads.tally.creatives_new == 4
    assert len(stored) == 3 + 1 + 4, "every ad's image is linked, the ones reusing a URL too"
    assert sorted(cdn.requests) == [f"/c/{n}.jpg" for n in range(4)], "each URL fetched once"
    assert list((tmp_path / "blobs" / ".staging").iterdir()) == []
