"""Fetching creatives: local export files and HTTP downloads, with every refusal classified."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import httpcore
import httpx
import pytest

from brand_pipeline.domain.ads import MediaRef
from brand_pipeline.resources.ad_library import AdLibraryResource
from brand_pipeline.sample import read_manifest
from brand_pipeline.settings import settings_from_env
from brand_pipeline.sources.media import DEFAULT_USER_AGENT, META_MEDIA_HOSTS, MediaError, MediaFetcher, MediaPolicy
from brand_pipeline.sources.pinned_http import Resolve, pinned_client, resolve_with_getaddrinfo
from brand_pipeline_tests.fakes.cdn import FakeCDN
from brand_pipeline_tests.fakes.network import RoutedNetwork, ScriptedResolver
from brand_pipeline_tests.fakes.tls import LocalCA

# The fake CDN listens on 127.0.0.1 over plain HTTP, which production policy refuses.
LOCAL_CDN = MediaPolicy(allow_plain_http=True, allow_private_networks=True, allowed_hosts=("127.0.0.1",))


def _media(sample_dir: Path, kind: str, defect: str | None = None) -> str:
    manifest = read_manifest(sample_dir)
    return next(m.path for m in manifest.media if m.kind == kind and m.defect == defect)


def fetch_in_turn(
    urls: list[str],
    kind: str,
    tmp_path: Path,
    policy: MediaPolicy = LOCAL_CDN,
    base_dir: Path | None = None,
    *,
    resolve: Resolve = resolve_with_getaddrinfo,
    network: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> list:
    """Each URL fetched after the other by one fetcher and one client (so connections are pooled)."""

    async def run():
        results = []
        async with pinned_client(timeout=httpx.Timeout(5.0), ssl_context=ssl_context, network=network) as http:
            fetcher = MediaFetcher(staging_dir=tmp_path, policy=policy, http=http, base_dir=base_dir, resolve=resolve)
            for url in urls:
                try:
                    results.append(await fetcher.fetch(MediaRef(slot="videos[0]", kind=kind, url=url)))
                except MediaError as error:
                    results.append(error)
        return results

    return asyncio.run(run())


def fetch(url: str, kind: str, tmp_path: Path, policy: MediaPolicy = LOCAL_CDN, base_dir: Path | None = None, **kw):
    [result] = fetch_in_turn([url], kind, tmp_path, policy, base_dir, **kw)
    if isinstance(result, MediaError):
        raise result
    return result


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
        error = refusal(
            cdn.base_url + "/huge", "video", tmp_path, policy=LOCAL_CDN.model_copy(update={"max_bytes": 2**20})
        )
        elapsed = time.monotonic() - started
    assert error.status == "too_large"
    assert elapsed < 10


def test_a_slow_drip_is_cut_by_the_download_deadline(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        error = refusal(
            cdn.base_url + "/drip", "video", tmp_path, policy=LOCAL_CDN.model_copy(update={"timeout_s": 1.0})
        )
    assert error.status == "unavailable" and "longer than 1 s" in error.reason


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://cdn.example.com/v.mp4", "only https"),
        ("https://169.254.169.254/latest/meta-data/", "non-public address 169.254.169.254"),
        ("https://10.1.2.3/v.mp4", "non-public address 10.1.2.3"),
        ("https://192.168.1.20/v.mp4", "non-public address 192.168.1.20"),
        ("https://[::ffff:10.1.2.3]/v.mp4", "non-public address ::ffff:10.1.2.3"),
        ("https://233.252.0.1/v.mp4", "non-public address 233.252.0.1"),
        ("https://localhost/v.mp4", "non-public address"),
        ("https://[::1]/v.mp4", "non-public address ::1"),
        ("ftp://cdn.example.com/v.mp4", "unsupported URL scheme"),
    ],
)
def test_default_policy_refuses_non_public_destinations_before_connecting(
    url: str, reason: str, tmp_path: Path
) -> None:
    # The loopback guard would fail this test on any connection attempt to these addresses.
    error = refusal(url, "video", tmp_path, policy=MediaPolicy(allowed_hosts=()))
    assert error.status == "refused" and reason in error.reason


def test_every_redirect_hop_is_checked(tmp_path: Path) -> None:
    policy = LOCAL_CDN.model_copy(update={"allowed_hosts": ("127.0.0.1",)})
    with FakeCDN() as cdn:
        target = cdn.serve("/v.mp4", b"x").replace("127.0.0.1", "localhost")
        error = refusal(f"{cdn.base_url}/redirect?to={target}", "video", tmp_path, policy=policy)
        assert cdn.requests == ["/redirect?to=" + target], "the first hop was fetched, the second refused"
    assert error.status == "refused" and "localhost is not in the allowed media hosts" in error.reason


# -- SSRF: one lookup per hop, every address checked, the connection pinned to a checked one ---------

PUBLIC = "157.240.22.35"  # a global address; RoutedNetwork delivers it to the fake CDN on 127.0.0.1
PLAIN_HTTP = MediaPolicy(allow_plain_http=True)  # the fake CDN speaks HTTP; everything else is default


def test_localhost_is_refused_before_any_connection(tmp_path: Path) -> None:
    with FakeCDN() as cdn:
        error = refusal(f"https://localhost:{cdn.port}/v.mp4", "video", tmp_path, policy=MediaPolicy(allowed_hosts=()))
    assert error.status == "refused" and "localhost resolves to non-public address" in error.reason
    assert cdn.connections == []


@pytest.mark.parametrize("private", ["10.0.0.7", "192.168.0.9", "169.254.169.254", "127.0.0.1"])
def test_a_name_with_any_non_public_answer_is_refused_before_any_connection(private: str, tmp_path: Path) -> None:
    resolver = ScriptedResolver({"video.xx.fbcdn.net": [[PUBLIC, private]]})
    with FakeCDN() as cdn:
        network = RoutedNetwork(cdn.port)
        error = refusal(
            "http://video.xx.fbcdn.net/v.mp4", "video", tmp_path, PLAIN_HTTP, resolve=resolver, network=network
        )
    assert error.status == "refused" and error.reason == f"video.xx.fbcdn.net resolves to non-public address {private}"
    assert network.connects == [] and cdn.connections == []


@pytest.mark.parametrize(
    "target, reason",
    [
        ("http://b.fbcdn.net/v.mp4", "b.fbcdn.net resolves to non-public address 10.0.0.7"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 resolves to non-public address 169.254.169.254"),
        ("http://localhost/admin", "localhost resolves to non-public address 127.0.0.1"),
    ],
)
def test_a_redirect_into_a_private_address_is_refused_before_it_is_followed(
    target: str, reason: str, tmp_path: Path
) -> None:
    resolver = ScriptedResolver(
        {"a.fbcdn.net": [[PUBLIC]], "b.fbcdn.net": [["10.0.0.7"]], "localhost": [["127.0.0.1"]]}
    )
    policy = PLAIN_HTTP.model_copy(update={"allowed_hosts": ()})
    with FakeCDN() as cdn:
        network = RoutedNetwork(cdn.port)
        error = refusal(
            f"http://a.fbcdn.net/redirect?to={target}", "video", tmp_path, policy, resolve=resolver, network=network
        )
    assert error.status == "refused" and error.reason == reason
    assert network.connects == [(PUBLIC, 80)], "only the first, public hop was connected"
    assert cdn.requests == [f"/redirect?to={target}"]


def test_a_name_that_rebinds_after_the_check_is_still_reached_at_the_checked_address(
    sample_dir: Path, tmp_path: Path
) -> None:
    # Public when checked, loopback a moment later: without pinning, the connect would re-resolve.
    resolver = ScriptedResolver({"video.xx.fbcdn.net": [[PUBLIC], ["127.0.0.1"]]})
    video = (sample_dir / _media(sample_dir, "video")).read_bytes()
    with FakeCDN() as cdn:
        cdn.serve("/v.mp4", video, "video/mp4")
        network = RoutedNetwork(cdn.port)
        media = fetch(
            "http://video.xx.fbcdn.net/v.mp4", "video", tmp_path, PLAIN_HTTP, resolve=resolver, network=network
        )
    assert media.path.read_bytes() == video
    assert resolver.lookups == [("video.xx.fbcdn.net", 80)], "one lookup for the hop, none at connect time"
    assert network.connects == [(PUBLIC, 80)]
    assert cdn.request_headers[0]["Host"] == "video.xx.fbcdn.net"


def test_the_real_network_connects_to_the_address_the_resolver_gave_not_to_a_fresh_lookup(
    sample_dir: Path, tmp_path: Path
) -> None:
    # cdn.test exists nowhere but in the injected resolver; its second answer would trip the loopback guard.
    resolver = ScriptedResolver({"cdn.test": [["127.0.0.1"], ["10.0.0.7"]]})
    policy = LOCAL_CDN.model_copy(update={"allowed_hosts": ("cdn.test",)})
    image = (sample_dir / _media(sample_dir, "image")).read_bytes()
    with FakeCDN() as cdn:
        cdn.serve("/i.jpg", image, "image/jpeg")
        media = fetch(f"http://cdn.test:{cdn.port}/i.jpg", "image", tmp_path, policy, resolve=resolver)
    assert media.path.read_bytes() == image
    assert resolver.lookups == [("cdn.test", cdn.port)]
    assert cdn.request_headers[0]["Host"] == f"cdn.test:{cdn.port}"


def test_every_hop_is_checked_even_when_a_pooled_connection_to_the_host_is_open(
    sample_dir: Path, tmp_path: Path
) -> None:
    resolver = ScriptedResolver({"video.xx.fbcdn.net": [[PUBLIC], ["157.240.22.36"], ["10.0.0.7"]]})
    video = (sample_dir / _media(sample_dir, "video")).read_bytes()
    with FakeCDN() as cdn:
        first, second, third = (cdn.serve(f"/{n}.mp4", video, "video/mp4").replace(cdn.base_url, "") for n in "abc")
        network = RoutedNetwork(cdn.port)
        urls = [f"http://video.xx.fbcdn.net{path}" for path in (first, second, third)]
        results = fetch_in_turn(urls, "video", tmp_path, PLAIN_HTTP, resolve=resolver, network=network)
    assert [type(r).__name__ for r in results] == ["FetchedMedia", "FetchedMedia", "MediaError"]
    assert results[2].reason == "video.xx.fbcdn.net resolves to non-public address 10.0.0.7"
    assert cdn.requests == ["/a.mp4", "/b.mp4"], "the third request was never sent on the pooled connection"
    # The second download reused the keep-alive connection to the first, also checked, address.
    assert network.connects == [(PUBLIC, 80)]


def test_the_pinned_client_never_resolves_or_connects_on_its_own(tmp_path: Path) -> None:
    async def unpinned_get(url: str) -> None:
        async with pinned_client(timeout=httpx.Timeout(5.0)) as http:
            await http.get(url)

    with FakeCDN() as cdn:
        with pytest.raises(httpx.ConnectError, match="no checked address is pinned"):
            asyncio.run(unpinned_get(cdn.serve("/v.mp4", b"x")))
    assert cdn.connections == []


# -- allow-list: Meta's CDNs by default ---------------------------------------------------------------


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://cdn.example.com/v.mp4", "host cdn.example.com is not in the allowed media hosts"),
        ("https://evilfbcdn.net/v.mp4", "host evilfbcdn.net is not in the allowed media hosts"),
        ("https://fbcdn.net.attacker.io/v.mp4", "host fbcdn.net.attacker.io is not in the allowed media hosts"),
        ("http://video.xx.fbcdn.net/v.mp4", "only https media URLs are allowed, not http://"),
    ],
)
def test_the_default_policy_refuses_hosts_outside_metas_cdns_without_resolving_them(
    url: str, reason: str, tmp_path: Path
) -> None:
    resolver = ScriptedResolver({})
    error = refusal(url, "video", tmp_path, policy=MediaPolicy(), resolve=resolver)
    assert error.status == "refused" and error.reason == reason
    assert resolver.lookups == []


@pytest.mark.parametrize(
    "host, allowed_hosts",
    [
        ("video.xx.fbcdn.net", MediaPolicy().allowed_hosts),
        ("fbcdn.net", MediaPolicy().allowed_hosts),
        ("scontent-iad3-1.cdninstagram.com", MediaPolicy().allowed_hosts),
        ("lookaside.fbsbx.com", MediaPolicy().allowed_hosts),
        ("cdn.example.com", ()),  # an empty allow-list: any public host
    ],
)
def test_hosts_on_the_allow_list_and_their_subdomains_are_downloaded(
    host: str, allowed_hosts: tuple[str, ...], sample_dir: Path, tmp_path: Path
) -> None:
    resolver = ScriptedResolver({host: [[PUBLIC]]})
    image = (sample_dir / _media(sample_dir, "image")).read_bytes()
    policy = PLAIN_HTTP.model_copy(update={"allowed_hosts": allowed_hosts})
    with FakeCDN() as cdn:
        cdn.serve("/i.jpg", image, "image/jpeg")
        media = fetch(
            f"http://{host}/i.jpg", "image", tmp_path, policy, resolve=resolver, network=RoutedNetwork(cdn.port)
        )
    assert media.path.read_bytes() == image


# -- User-Agent ------------------------------------------------------------------------------------


def test_every_media_request_carries_the_configured_user_agent(tmp_path: Path) -> None:
    browser = MediaPolicy().user_agent
    assert browser == DEFAULT_USER_AGENT and browser.startswith("Mozilla/5.0 (") and " Chrome/" in browser
    custom = LOCAL_CDN.model_copy(update={"user_agent": "Mozilla/5.0 (X11; Linux x86_64) brand-pipeline-test"})
    with FakeCDN() as cdn:
        target = cdn.serve("/v.mp4", b"not a video")
        refusal(f"{cdn.base_url}/redirect?to={target}", "video", tmp_path)
        refusal(target, "video", tmp_path, policy=custom)
    agents = [headers["User-Agent"] for headers in cdn.request_headers]
    assert agents == [browser, browser, custom.user_agent], "both redirect hops, then the custom agent"


def test_the_resource_defaults_to_metas_cdns_and_takes_hosts_and_user_agent_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def policy_of(resource: AdLibraryResource) -> MediaPolicy:
        async with resource.open(tmp_path) as library:
            return library.fetcher.policy

    folders = {"source": "file", "export_dir": str(tmp_path), "home": str(tmp_path)}
    default = asyncio.run(policy_of(AdLibraryResource(**folders)))
    assert default.allowed_hosts == META_MEDIA_HOSTS == ("fbcdn.net", "fbsbx.com", "cdninstagram.com")
    assert default.user_agent == DEFAULT_USER_AGENT
    monkeypatch.setenv("BRAND_PIPELINE_MEDIA_HOSTS", "")  # empty: any public host
    monkeypatch.setenv("BRAND_PIPELINE_MEDIA_USER_AGENT", "Mozilla/5.0 (Macintosh) test")
    settings, errors = settings_from_env(AdLibraryResource, "BRAND_PIPELINE_", skip={"home", "setting_errors"})
    assert not errors
    configured = asyncio.run(policy_of(AdLibraryResource(**folders, **settings)))
    assert configured.allowed_hosts == () and configured.user_agent == "Mozilla/5.0 (Macintosh) test"


# -- TLS: pinned to an address, verified against the name ---------------------------------------------


def test_a_pinned_https_connection_verifies_the_certificate_against_the_host_name(
    sample_dir: Path, tmp_path: Path
) -> None:
    ca = LocalCA()  # the certificate names cdn.test only: verifying against 127.0.0.1 would fail
    resolver = ScriptedResolver({"cdn.test": [["127.0.0.1"]], "other.test": [["127.0.0.1"]]})
    policy = MediaPolicy(allow_private_networks=True, allowed_hosts=("cdn.test", "other.test"))
    image = (sample_dir / _media(sample_dir, "image")).read_bytes()
    with FakeCDN(tls=ca.server_context("cdn.test")) as cdn:
        cdn.serve("/i.jpg", image, "image/jpeg")
        urls = [f"https://cdn.test:{cdn.port}/i.jpg", f"https://other.test:{cdn.port}/i.jpg"]
        good, wrong_name = fetch_in_turn(
            urls, "image", tmp_path, policy, resolve=resolver, ssl_context=ca.client_context()
        )
    assert good.path.read_bytes() == image
    assert wrong_name.status == "unavailable" and "CERTIFICATE_VERIFY_FAILED" in wrong_name.reason
    assert cdn.sni_names == ["cdn.test", "other.test"]
    assert cdn.requests == ["/i.jpg"], "nothing was sent to the server whose certificate did not match"
