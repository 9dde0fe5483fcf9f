"""The creatives of a scrape as one continuous, bounded download pipeline.

``want(ads)`` hands over the media of a batch of stored ads; each URL not yet stored for its
(ad, slot) is fetched once, however many ads show it, with at most ``concurrency`` downloads in
flight. A task per batch starts them, so the caller reads and stores the next batch meanwhile;
a batch with new downloads waits until the previous batch's have all started, so a fast source
cannot run ahead of memory (media fetched or on the way already never wait). Once its bytes
have arrived, a download gives its slot to the next one while its file is checked and moved to
the blob store (at most ``concurrency`` at a time); then a writer task saves creative rows and
links in batches off the download path. Failures become per-item outcomes. Leaving the block
waits for every download and the last write.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from types import TracebackType

from pydantic import BaseModel

from brand_pipeline.domain.ads import AdRecord, MediaRef
from brand_pipeline.sources.media import MediaError, MediaFetcher
from brand_pipeline.store.models import AdCreativeLink, Creative, ItemOutcome
from brand_pipeline.store.protocol import BlobStore, BlobTooLarge, BrandStore

# Creative links written per round trip by the writer task.
WRITE_BATCH = 100

_User = tuple[str, MediaRef]  # (ad id, the ref at its slot)


class DownloadTally(BaseModel):
    creatives_new: int = 0
    creatives_reused: int = 0  # bytes already stored (another ad or brand uses them)
    media_already_stored: int = 0


class _HandedOverSlot:
    """A download's place in the pipeline: a download slot while its bytes arrive, then a storing
    slot, taken before the download slot is given back, so the next download starts while this
    one is checked and stored, and a slow blob store holds up downloads rather than pile up files."""

    def __init__(self, downloading: asyncio.Semaphore, storing: asyncio.Semaphore) -> None:
        self._downloading, self._storing = downloading, storing
        self._held = downloading

    async def hand_over(self) -> None:
        await self._storing.acquire()
        self._downloading.release()
        self._held = self._storing

    def release(self) -> None:
        self._held.release()


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
        self._slots = asyncio.Semaphore(concurrency)  # downloads in flight
        self._storing = asyncio.Semaphore(concurrency)  # received files being checked and stored
        self._pending: dict[bytes, list[_User]] = {}  # URL digest → ads waiting for it
        self._done: dict[bytes, Creative | MediaError] = {}
        self._writes: asyncio.Queue[tuple[Creative, list[_User]] | None] = asyncio.Queue()
        self._tasks: set[asyncio.Task[None]] = set()
        self._starting: asyncio.Task[None] | None = None  # the batch whose downloads are being started
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
            await self._join(cancel=kind is not None)
        finally:
            await self._writes.put(None)  # what was downloaded is written, even on the way out
            assert self._writer is not None
            await self._writer

    async def _join(self, *, cancel: bool) -> None:
        """Wait for every download; or cancel them all, on the way out with an error or when
        starting them failed."""
        try:
            if self._starting is not None:
                if cancel:
                    self._starting.cancel()
                await asyncio.gather(self._starting, return_exceptions=cancel)
        except BaseException:
            cancel = True
            raise
        finally:
            if cancel:
                for task in self._tasks:
                    task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=cancel)

    async def want(self, ads: Sequence[AdRecord]) -> None:
        """Fetch (once each) the media of ``ads`` that no stored link covers yet. Media fetched or
        on the way already are noted at once; new downloads are handed to a task that starts them,
        once the previous batch's have all started. Returns when those that fit now have started."""
        have = await self._store.stored_slots([ad.ad_archive_id for ad in ads])
        new: list[tuple[bytes, MediaRef]] = []
        for ad in ads:
            for ref in ad.media:
                if (ad.ad_archive_id, ref.slot) in have:
                    self.tally.media_already_stored += 1
                elif (key := self._claim(ad.ad_archive_id, ref)) is not None:
                    new.append((key, ref))
        if not new:
            return
        if self._starting is not None:
            await self._starting  # a fast source waits here: one batch of new downloads at a time
        started_what_fits = asyncio.Event()
        self._starting = asyncio.create_task(self._start_all(new, started_what_fits))
        # The downloads that fit now are queued on the loop before the caller goes on (and maybe
        # keeps the loop busy reading the next batch), so they send their requests first.
        await started_what_fits.wait()

    def _claim(self, ad_id: str, ref: MediaRef) -> bytes | None:
        """Note that the ad shows ``ref``; the key of a download to start, or None when its URL
        was fetched already or is on the way."""
        key = hashlib.blake2b(f"{ref.kind}\0{ref.url}".encode(), digest_size=16).digest()
        done = self._done.get(key)
        if done is not None:
            self._settle(done, [(ad_id, ref)])
            return None
        users = self._pending.get(key)
        if users is not None:
            users.append((ad_id, ref))
            return None
        self._pending[key] = [(ad_id, ref)]
        return key

    async def _start_all(self, new: list[tuple[bytes, MediaRef]], started_what_fits: asyncio.Event) -> None:
        try:
            for key, ref in new:
                if self._slots.locked():
                    started_what_fits.set()
                await self._slots.acquire()  # backpressure: at most `concurrency` downloads in flight
                task = asyncio.create_task(self._download(key, ref))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        finally:
            started_what_fits.set()  # a failure surfaces at the next want() or on leaving the block

    async def _download(self, key: bytes, ref: MediaRef) -> None:
        slot = _HandedOverSlot(self._slots, self._storing)
        try:
            result = await self._fetch(ref, slot)
        finally:
            slot.release()
        self._done[key] = result
        self._settle(result, self._pending.pop(key))

    async def _fetch(self, ref: MediaRef, slot: _HandedOverSlot) -> Creative | MediaError:
        try:
            media = await self._fetcher.fetch(ref, received=slot.hand_over)
        except MediaError as error:
            return error
        try:
            # Blob first, row second: a creative row never points at a missing file.
            blob_path = await self._blobs.put_file(media.path, media.sha256, media.extension)
        except BlobTooLarge as error:  # the blob store takes less than the media policy allowed
            media.path.unlink(missing_ok=True)
            return MediaError("too_large", str(error))
        return Creative(
            sha256=media.sha256,
            kind=media.kind,
            mime_type=media.mime_type,
            size_bytes=media.size_bytes,
            blob_path=blob_path,
        )

    def _settle(self, result: Creative | MediaError, users: list[_User]) -> None:
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
            self._writes.put_nowait((result, users))  # unbounded: a settled creative never waits

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
