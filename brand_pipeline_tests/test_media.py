"""Fetching creatives: local export files and HTTP downloads, with every refusal classified."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from brand_pipeline.sources.media import MediaError, MediaFetcher, MediaPolicy
from brand_pipeline.domain.ads import MediaRef
from brand_pipeline.sample import read_manifest
from brand_pipeline_tests.fakes.cdn import FakeCDN

# The fake CDN listens on 127.0.0.1 over plain HTTP, which production policy refuses.
LOCAL_CDN = MediaPolicy(allow_plain_http=True, allow_private_networks=True)


def _media(sample_dir: Path, kind: str, defect: str | None = None) -> str:
    manifest = read_manifest(sample_dir)
    return next(m.path for m in manifest.media if m.kind == kind and m.defect == defect)


def fetch(url: str, kind: str, tmp_path: Path, policy: MediaPolicy = LOCAL_CDN, base_dir: Path | None = None):
    async def run():
        async with httpx.AsyncClient() as http:
            fetcher = MediaFetcher(staging_dir=tmp_path, policy=policy, http=http, base_dir=base_dir)
            return await fetcher.fetch(MediaRef(slot="videos[0]", kind=kind, url=url))

    return asyncio.run(run())


def refusal(*args, **kwargs) -> MediaError:
    with pytest.raises(MediaError) as caught:
        fetch(*args, **kwargs)
    return caught.value


def test_a_local_creative_is_copied_hashed_and_typed(sample_dir: Path, tmp_path: Path) -> None:
    path = _media(sample_dir, "video")
    media = fetch(path, "video", tmp_path, base_dir=sample_dir)
    assert media.mime_type == "video/mp4" and media.extension == ".mp4"
    assert media.path.read_bytes() == (sample_dir / path).read_bytes()
    manifest_sha = next(m.sha256 for m in read_manifest(sample_dir).media if m.path == path)
    assert media.sha256 == manifest_sha


def test_local_paths_cannot_escape_the_export_folder(sample_dir: Path, tmp_path: Path) -> None:
    error = refusal("../../../../etc/passwd", "image", tmp_path, base_dir=sample_dir)
    assert error.status == "refused" and "outside the export folder" in error.reason


def test_a_missing_local_file_is_unavailable(sample_dir: Path, tmp_path: Path) -> None:
    error = refusal("media/nope.jpg", "image", tmp_path, base_dir=sample_dir)
    assert error.status == "unavailable" and "does not exist" in error.reason


def test_an_html_error_page_saved_as_mp4_is_not_a_video(sample_dir: Path, tmp_path: Path) -> None:
    error = refusal(_media(sample_dir, "broken_video", "html_error_page"), "video", tmp_path, base_dir=sample_dir)
    assert error.status == "not_media" and "HTML page" in error.reason


def test_a_truncated_video_is_caught_by_decoding_it(sample_dir: Path, tmp_path: Path) -> None:
    error = refusal(_media(sample_dir, "broken_video", "truncated"), "video", tmp_path, base_dir=sample_dir)
    assert error.status == "broken" and "cannot be decoded" in error.reason


def test_an_image_where_a_video_was_promised_is_refused(sample_dir: Path, tmp_path: Path) -> None:
    error = refusal(_media(sample_dir, "image"), "video", tmp_path, base_dir=sample_dir)
    assert error.status == "not_media" and "expected a video, got image/" in error.reason


def test_failed_fetches_leave_no_staging_files(sample_dir: Path, tmp_path: Path) -> None:
    refusal(_media(sample_dir, "broken_video", "truncated"), "video", tmp_path, base_dir=sample_dir)
    assert list(tmp_path.iterdir()) == []


def test_a_download_over_http_is_verified_like_a_local_file(sample_dir: Path, tmp_path: Path) -> None:
    video = (sample_dir / _media(sample_dir, "video")).read_bytes()
    with FakeCDN() as cdn:
        media = fetch(cdn.serve("/v/ad.mp4", video, "video/mp4"), "video", tmp_path)
        html = refusal(cdn.serve("/v/err.mp4", b"<!DOCTYPE html><p>oops</p>", "video/mp4"), "video", tmp_path)
    assert media.path.read_bytes() == video
    assert html.status == "not_media"


def test_an_expired_signed_url_is_classified_for_a_rescrape_not_a_retry(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        assert refusal(cdn.base_url + "/expired", "video", tmp_path).status == "expired"
        # Meta signs URLs with oe=<hex expiry>; a past one is refused without a request.
        past = f"{int(time.time()) - 3600:x}"
        assert refusal(f"{cdn.base_url}/v.mp4?oe={past}", "video", tmp_path).status == "expired"
        assert cdn.requests == ["/expired"]
        assert refusal(cdn.base_url + "/gone", "video", tmp_path).status == "unavailable"


def test_a_stream_without_length_is_cut_at_the_size_cap(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        started = time.monotonic()
        error = refusal(cdn.base_url + "/huge", "video", tmp_path, policy=LOCAL_CDN.model_copy(update={"max_bytes": 2**20}))
        elapsed = time.monotonic() - started
    assert error.status == "too_large"
    assert elapsed < 10


def test_a_slow_drip_is_cut_by_the_download_deadline(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        error = refusal(cdn.base_url + "/drip", "video", tmp_path, policy=LOCAL_CDN.model_copy(update={"timeout_s": 1.0}))
    assert error.status == "unavailable" and "longer than 1 s" in error.reason


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://cdn.example.com/v.mp4", "only https"),
        ("https://169.254.169.254/latest/meta-data/", "non-public address 169.254.169.254"),
        ("https://10.1.2.3/v.mp4", "non-public address 10.1.2.3"),
        ("https://localhost/v.mp4", "non-public address"),
        ("https://[::1]/v.mp4", "non-public address ::1"),
        ("ftp://cdn.example.com/v.mp4", "unsupported URL scheme"),
    ],
)
def test_default_policy_refuses_non_public_destinations_before_connecting(
    url: str, reason: str, tmp_path: Path
) -> None:
    # The loopback guard would fail this test on any connection attempt to these addresses.
    error = refusal(url, "video", tmp_path, policy=MediaPolicy())
    assert error.status == "refused" and reason in error.reason


def test_every_redirect_hop_is_checked(tmp_path: Path) -> None:
    policy = LOCAL_CDN.model_copy(update={"allowed_hosts": ("127.0.0.1",)})
    with FakeCDN() as cdn:
        target = cdn.serve("/v.mp4", b"x").replace("127.0.0.1", "localhost")
        error = refusal(f"{cdn.base_url}/redirect?to={target}", "video", tmp_path, policy=policy)
        assert cdn.requests == ["/redirect?to=" + target], "the first hop was fetched, the second refused"
    assert error.status == "refused" and "localhost is not in the allowed media hosts" in error.reason
