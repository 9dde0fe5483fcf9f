"""The creatives of a scrape as one continuous, bounded download pipeline.

``want(ads)`` hands over the media of a batch of stored ads; each URL not yet stored for its
(ad, slot) is fetched once, however many ads show it, with at most ``concurrency`` downloads in
flight (handing over more waits for a free slot, so a fast source cannot run ahead of memory).
Finished downloads go to their blob first, then to a writer task that saves creative rows and
links in batches off the download path; failures become per-item outcomes. Leaving the block
waits for every download and the last write.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from types import TracebackType

from pydantic import BaseModel

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.sources.media import FetchedMedia, MediaError, MediaFetcher
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.protocol import BlobStore, BlobTooLarge, BrandStore

# Creative links written per round trip by the writer task.
WRITE_BATCH = 100

_User = tuple[str, MediaRef]  # (ad id, the ref at its slot)


class DownloadTally(BaseModel):
    creatives_new: int = 0
    creatives_reused: int = 0  # bytes already stored (another ad or brand uses them)
    media_already_stored: int = 0


class CreativeDownloads:
    def __init__(
        self,
        brand_slug: str,
        asset: str,
        *,
        fetcher: MediaFetcher,
        store: BrandStore,
        blobs: BlobStore,
        run_id: str,
        concurrency: int,
    ) -> None:
        self._brand, self._asset, self._run_id = brand_slug, asset, run_id
        self._fetcher, self._store, self._blobs = fetcher, store, blobs
        self._slots = asyncio.Semaphore(concurrency)
        self._pending: dict[bytes, list[_User]] = {}  # URL digest → ads waiting for it
        self._done: dict[bytes, Creative | MediaError] = {}
        self._writes: asyncio.Queue[tuple[Creative, list[_User]] | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._writer: asyncio.Task[None] | None = None
        self.tally = DownloadTally()
        self.outcomes: list[ItemOutcome] = []

    async def __aenter__(self) -> CreativeDownloads:
        self._writer = asyncio.create_task(self._write_loop())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is not None:
                for task in self._tasks:
                    task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=kind is not None)
        finally:
            await self._writes.put(None)  # what was downloaded is written, even on the way out
            assert self._writer is not None
            await self._writer

    async def want(self, ads: Sequence[AdRecord]) -> None:
        """Fetch (once each) the media of ``ads`` that no stored link covers yet."""
        have = await self._store.stored_slots([ad.ad_archive_id for ad in ads])
        for ad in ads:
            for ref in ad.media:
                if (ad.ad_archive_id, ref.slot) in have:
                    self.tally.media_already_stored += 1
                else:
                    await self._want_one(ad.ad_archive_id, ref)

    async def _want_one(self, ad_id: str, ref: MediaRef) -> None:
        key = hashlib.blake2b(f"{ref.kind}\0{ref.url}".encode(), digest_size=16).digest()
        done = self._done.get(key)
        if done is not None:
            await self._settle(done, [(ad_id, ref)])
        elif key in self._pending:
            self._pending[key].append((ad_id, ref))
        else:
            self._pending[key] = [(ad_id, ref)]
            await self._slots.acquire()  # backpressure: at most `concurrency` downloads in flight
            task = asyncio.create_task(self._download(key, ref))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _download(self, key: bytes, ref: MediaRef) -> None:
        try:
            result = await self._fetch(ref)
        finally:
            self._slots.release()
        self._done[key] = result
        await self._settle(result, self._pending.pop(key))

    async def _fetch(self, ref: MediaRef) -> Creative | MediaError:
        try:
            media = await self._fetcher.fetch(ref)
        except MediaError as error:
            return error
        try:
            return await self._store_blob(media)
        except BlobTooLarge as error:  # the blob store takes less than the media policy allowed
            media.path.unlink(missing_ok=True)
            return MediaError("too_large", str(error))

    async def _store_blob(self, media: FetchedMedia) -> Creative:
        # Blob first, row second: a creative row never points at a missing file.
        blob_path = await self._blobs.put_file(media.path, media.sha256, media.extension)
        return Creative(
            sha256=media.sha256,
            kind=media.kind,
            mime_type=media.mime_type,
            size_bytes=media.size_bytes,
            blob_path=blob_path,
        )

    async def _settle(self, result: Creative | MediaError, users: list[_User]) -> None:
        if isinstance(result, MediaError):
            self.outcomes += [
                ItemOutcome.for_media(
                    self._brand,
                    self._asset,
                    ad_id,
                    ref.slot,
                    status=result.status,
                    reason=result.reason,
                    detail=redact_url(ref.url),
                )
                for ad_id, ref in users
            ]
        else:
            await self._writes.put((result, users))

    async def _write_loop(self) -> None:
        """Save creatives and links in batches, off the download path."""
        creatives: dict[str, Creative] = {}
        links: list[AdCreativeLink] = []
        while (item := await self._writes.get()) is not None:
            creative, users = item
            creatives[creative.sha256] = creative
            links += [self._link(ad_id, ref, creative) for ad_id, ref in users]
            if len(links) >= WRITE_BATCH:
                await self._save(creatives, links)
                creatives, links = {}, []
        if links:
            await self._save(creatives, links)

    def _link(self, ad_id: str, ref: MediaRef, creative: Creative) -> AdCreativeLink:
        return AdCreativeLink(
            ad_archive_id=ad_id,
            slot=ref.slot,
            sha256=creative.sha256,
            source_url=redact_url(ref.url),
            run_id=self._run_id,
        )

    async def _save(self, creatives: dict[str, Creative], links: list[AdCreativeLink]) -> None:
        known = await self._store.known_creatives(list(creatives))
        self.tally.creatives_new += len(set(creatives) - known)
        self.tally.creatives_reused += len(set(creatives) & known)
        await self._store.save_creatives(list(creatives.values()), links)


def redact_url(url: str) -> str:
    # Signed CDN URLs carry short-lived tokens in the query string: keep them out of the tables.
    return url.split("?", 1)[0]
