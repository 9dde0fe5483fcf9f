"""Staging a download: the event loop only receives bytes; creating, hashing and writing the
staging file happen in the fetcher's file-work threads, and no outcome leaves a staging file."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from brand_pipeline.domain.ads import MediaRef
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.sample import read_manifest
from brand_pipeline.sources.media import FetchedMedia, MediaError, MediaFetcher, MediaPolicy
from brand_pipeline.sources.pinned_http import pinned_client
from brand_pipeline_tests.fakes.cdn import FakeCDN

# The fake CDN listens on 127.0.0.1 over plain HTTP, which production policy refuses.
LOCAL_CDN = MediaPolicy(allow_plain_http=True, allow_private_networks=True, allowed_hosts=("127.0.0.1",))


class RecordingFileWork(ThreadPoolExecutor):
    """A file-work executor that notes, for every job, its thread, the bytes it was handed, and
    the staging files that existed when it started and when it ended."""

    def __init__(self, staging_dir: Path) -> None:
        super().__init__(max_workers=2)
        self.staging_dir = staging_dir
        self.jobs: list[dict[str, Any]] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            job = {"thread": threading.get_ident(), "bytes": sum(len(a) for a in args if isinstance(a, bytes))}
            job["files_before"] = sorted(p.name for p in self.staging_dir.iterdir())
            try:
                return fn(*args, **kwargs)
            finally:
                job["files_after"] = sorted(p.name for p in self.staging_dir.iterdir())
                self.jobs.append(job)

        return super().submit(run)


class GatedFileWork(ThreadPoolExecutor):
    """Holds its first job until ``release`` is set, and says when that job has started."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.started, self.release = threading.Event(), threading.Event()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        def run() -> Any:
            if not self.started.is_set():
                self.started.set()
                self.release.wait(10)
            return fn(*args, **kwargs)

        return super().submit(run)


def fetch_with(
    url: str, kind: CreativeKind, staging: Path, file_work: ThreadPoolExecutor, policy: MediaPolicy = LOCAL_CDN
) -> tuple[FetchedMedia | MediaError, int]:
    """The fetch's outcome, and the thread the event loop ran on."""

    async def run() -> FetchedMedia | MediaError:
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            fetcher = MediaFetcher(staging_dir=staging, policy=policy, http=http, file_work=file_work)
            try:
                return await fetcher.fetch(MediaRef(slot="videos[0]", kind=kind, url=url))
            except MediaError as error:
                return error

    with file_work:
        loop_thread: list[int] = []
        result = asyncio.run(_on_loop(run, loop_thread))
    return result, loop_thread[0]


async def _on_loop(work: Callable[[], Any], loop_thread: list[int]) -> Any:
    loop_thread.append(threading.get_ident())
    return await work()


def test_every_downloaded_byte_is_hashed_and_written_off_the_event_loop(sample_dir: Path, tmp_path: Path) -> None:
    video = next(m for m in read_manifest(sample_dir).media if m.kind == "video" and m.defect is None)
    # Over two 256 KiB chunks; the video check reads only the first copy.
    body = (sample_dir / video.path).read_bytes() * (2 * 256 * 1024 // video.bytes + 1)
    staging = tmp_path / "staging"
    staging.mkdir()
    file_work = RecordingFileWork(staging)
    with FakeCDN() as cdn:
        media, loop_thread = fetch_with(cdn.serve("/v.mp4", body, "video/mp4"), "video", staging, file_work)
    assert isinstance(media, FetchedMedia), media
    assert media.sha256 == hashlib.sha256(body).hexdigest() and media.path.read_bytes() == body
    jobs = file_work.jobs
    assert sum(job["bytes"] for job in jobs) == len(body), "every byte went through the file-work threads"
    assert len([job for job in jobs if job["bytes"]]) >= 2, "a chunk at a time, not the whole body at once"
    assert all(job["thread"] != loop_thread for job in jobs)
    assert jobs[0]["files_before"] == [] and jobs[0]["files_after"] == [media.path.name], "created off the loop too"


def test_a_download_cut_at_the_size_cap_leaves_no_staging_file(tmp_path: Path) -> None:
    file_work = RecordingFileWork(tmp_path)
    with FakeCDN() as cdn:
        error, _ = fetch_with(
            cdn.base_url + "/huge", "video", tmp_path, file_work, LOCAL_CDN.model_copy(update={"max_bytes": 2**20})
        )
    assert isinstance(error, MediaError) and error.status == "too_large"
    assert sum(job["bytes"] for job in file_work.jobs) <= 2**20, "nothing past the cap was written"
    assert list(tmp_path.iterdir()) == []


def test_a_download_cut_by_its_deadline_leaves_no_staging_file(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        error, _ = fetch_with(
            cdn.base_url + "/drip",
            "video",
            tmp_path,
            RecordingFileWork(tmp_path),
            LOCAL_CDN.model_copy(update={"timeout_s": 0.5}),
        )
    assert isinstance(error, MediaError) and error.status == "unavailable" and "longer than 0.5 s" in error.reason
    assert list(tmp_path.iterdir()) == []


def test_a_fetch_cancelled_while_its_staging_file_is_created_waits_for_it_and_removes_it(
    sample_dir: Path, tmp_path: Path
) -> None:
    image = next(m for m in read_manifest(sample_dir).media if m.kind == "image")
    file_work = GatedFileWork()

    async def cancel_mid_creation(url: str) -> None:
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            fetcher = MediaFetcher(staging_dir=tmp_path, policy=LOCAL_CDN, http=http, file_work=file_work)
            task = asyncio.create_task(fetcher.fetch(MediaRef(slot="images[0]", kind="image", url=url)))
            assert await asyncio.to_thread(file_work.started.wait, 10), "the staging file's creation started"
            task.cancel()
            for _ in range(3):
                await asyncio.sleep(0)  # the fetch takes the cancellation before its file exists
            assert not task.done(), "the fetch waits for the thread creating its file"
            file_work.release.set()
            with pytest.raises(asyncio.CancelledError):
                await task

    with FakeCDN() as cdn, file_work:
        asyncio.run(cancel_mid_creation(cdn.serve("/i.jpg", (sample_dir / image.path).read_bytes(), "image/jpeg")))
    assert list(tmp_path.iterdir()) == [], "created after the cancellation, removed all the same"
