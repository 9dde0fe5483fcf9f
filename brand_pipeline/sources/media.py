"""Fetch one creative, check it is what it claims to be, and hash it.

Media arrive as signed CDN URLs (downloaded over HTTPS) or, for file exports, as paths relative
to the export. Either way the bytes are streamed to a staging file with a size cap, hashed on the
way, then checked by their magic bytes (a CDN's HTML error page served as ``video/mp4`` is not a
video) and for being whole (``media_checks``). Creating, hashing, writing and checking the staging
file run in worker threads, so the event loop only moves bytes off sockets. Every refusal is a
``MediaError`` whose ``status`` says what the next run can do about it: ``expired`` needs a
re-scrape, ``refused`` never succeeds as is.

Downloads refuse non-public addresses (SSRF): only HTTPS by default, a host allow-list (Meta's
CDNs by default), and every redirect hop resolved once, every address checked, and the connection
pinned to a checked address (see ``pinned_http``), so DNS cannot answer differently at connect time.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TypeVar
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import httpx
from pydantic import BaseModel, field_validator

from brand_pipeline.domain.ads import MediaRef
from brand_pipeline.domain.kinds import CreativeKind
from brand_pipeline.sources.media_checks import MediaError, inspect_media
from brand_pipeline.sources.pinned_http import Pin, Resolve, pinned, resolve_with_getaddrinfo

_T = TypeVar("_T")
_MAX_REDIRECTS = 5
_CHUNK = 256 * 1024

# Where Meta's Ad Library serves creatives from (scontent-*.xx.fbcdn.net, video.*.fbcdn.net, ...).
META_MEDIA_HOSTS: tuple[str, ...] = ("fbcdn.net", "fbsbx.com", "cdninstagram.com")
# Some CDNs refuse clients that do not look like a browser: a current desktop Chrome.
DEFAULT_USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
)


class MediaPolicy(BaseModel):
    """What a download may do. The defaults suit signed URLs on Meta's CDNs."""

    max_bytes: int = 200 * 1024 * 1024
    timeout_s: float = 60.0  # whole download, so a slow drip cannot hold a slot forever
    allow_plain_http: bool = False
    allow_private_networks: bool = False
    # These hosts and their subdomains; empty: any public host.
    allowed_hosts: tuple[str, ...] = META_MEDIA_HOSTS
    user_agent: str = DEFAULT_USER_AGENT

    @field_validator("allowed_hosts")
    @classmethod
    def _normalise_hosts(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host.strip().strip(".").lower() for host in hosts if host.strip().strip("."))

    def allows_host(self, host: str) -> bool:
        """``host`` equals an allowed suffix or is a subdomain of one (``evilfbcdn.net`` is not)."""
        return not self.allowed_hosts or any(host == s or host.endswith("." + s) for s in self.allowed_hosts)


@dataclass(frozen=True)
class FetchedMedia:
    path: Path  # staging file; the caller moves it into the blob store
    sha256: str
    size_bytes: int
    kind: CreativeKind
    mime_type: str
    extension: str


class MediaFetcher:
    """Turns a ``MediaRef`` into a verified staging file. One instance per run; owns no client.

    ``http`` must come from ``pinned_http.pinned_client()`` (opened by the caller with ``async
    with``): only its connections honour the address each hop was checked for. ``resolve`` is
    the one name lookup per hop (default: the event loop's ``getaddrinfo``). ``file_work`` runs
    the blocking part of every fetch: creating, hashing and writing the staging file, copying a
    local one, checking it (default: the event loop's default executor).
    """

    def __init__(
        self,
        *,
        staging_dir: Path,
        policy: MediaPolicy,
        http: httpx.AsyncClient | None = None,
        base_dir: Path | None = None,
        resolve: Resolve = resolve_with_getaddrinfo,
        file_work: Executor | None = None,
    ) -> None:
        self.staging_dir = staging_dir
        self.policy = policy
        self.http = http
        self.base_dir = base_dir.resolve() if base_dir else None
        self.resolve = resolve
        self.file_work = file_work

    async def fetch(self, ref: MediaRef, *, received: Callable[[], Awaitable[None]] | None = None) -> FetchedMedia:
        """The verified staging file of ``ref``. ``received``, if given, is awaited once every byte
        has arrived and before the last write and the check: off the network, so a caller that
        limits downloads in flight can let the next one start there."""
        scheme = urlsplit(ref.url).scheme.lower()
        # Named here, created (exclusively, 0600, as mkstemp would) in a worker thread when the
        # first byte arrives; the name is known up front so a failed fetch can always remove it.
        staging = self.staging_dir / f"{uuid.uuid4().hex}.part"
        writer = _CappedHashingWriter(staging, self.policy.max_bytes)
        try:
            with writer:
                if scheme in ("http", "https"):
                    last_chunk = await self._download(ref.url, writer)
                elif scheme in ("", "file"):
                    last_chunk = await self._off_loop(self._copy_local, ref.url, writer)
                else:
                    raise MediaError("refused", f"unsupported URL scheme {scheme!r}")
                if received is not None:
                    await received()
                return await self._off_loop(writer.finish, last_chunk, ref.kind)
        except BaseException:
            staging.unlink(missing_ok=True)
            raise

    async def _off_loop(self, work: Callable[..., _T], *args: object) -> _T:
        """``work(*args)`` in a worker thread. Cancelled meanwhile (a deadline, a stopped run), it is
        still waited for, so the clean-up that follows never races a thread writing the file."""
        running = asyncio.get_running_loop().run_in_executor(self.file_work, work, *args)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            await asyncio.wait([running])
            if not running.cancelled():
                running.exception()  # retrieved: the cancellation is what the caller needs to see
            raise

    # -- local files (file exports) -------------------------------------------------------------

    def _copy_local(self, url: str, writer: _CappedHashingWriter) -> bytes:
        if self.base_dir is None:
            raise MediaError("refused", "local media paths are only allowed for file exports")
        relative = unquote(urlsplit(url).path) if url.startswith("file:") else url
        source = (self.base_dir / relative).resolve()
        if not source.is_relative_to(self.base_dir):
            raise MediaError("refused", f"media path {url!r} points outside the export folder")
        if not source.is_file():
            raise MediaError("unavailable", f"media file {relative!r} does not exist next to the export")
        with source.open("rb") as reader:
            while chunk := reader.read(_CHUNK):
                writer.admit(chunk)
                writer.write(chunk)
        return b""  # nothing held back: every chunk is written

    # -- downloads ------------------------------------------------------------------------------

    async def _download(self, url: str, writer: _CappedHashingWriter) -> bytes:
        """Every chunk of ``url`` but the last written to ``writer``; returns the last."""
        if self.http is None:
            raise MediaError("refused", "this source does not download media over HTTP")
        _refuse_if_signature_expired(url)
        try:
            headers = {"User-Agent": self.policy.user_agent}
            async with asyncio.timeout(self.policy.timeout_s):
                for _ in range(_MAX_REDIRECTS + 1):
                    with pinned(await self._check_destination(url)):
                        async with self.http.stream("GET", url, headers=headers, follow_redirects=False) as response:
                            if response.is_redirect:
                                url = urljoin(url, response.headers.get("location", ""))
                                continue
                            _raise_for_status(response)
                            return await self._stream_to(response, writer)
                raise MediaError("refused", f"more than {_MAX_REDIRECTS} redirects")
        except TimeoutError:
            raise MediaError("unavailable", f"download took longer than {self.policy.timeout_s:g} s") from None
        except httpx.HTTPError as error:
            raise MediaError("unavailable", f"download failed: {type(error).__name__}: {error}") from None

    async def _stream_to(self, response: httpx.Response, writer: _CappedHashingWriter) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.policy.max_bytes:
            raise MediaError(
                "too_large", f"the server announced {declared} bytes, over the cap of {self.policy.max_bytes}"
            )
        # The loop only receives chunks and checks the cap; creating, hashing, writing and checking
        # the file, the CPU and disk part, happen in a worker thread. Each chunk is written once the
        # next one has arrived, so the last one goes with the check: a creative that fits in one
        # chunk (most images) costs one trip to a thread, not three. At most two chunks in memory.
        held = b""
        async for chunk in response.aiter_bytes(_CHUNK):
            writer.admit(chunk)
            if held:
                await self._off_loop(writer.write, held)
            held = chunk
        return held

    async def _check_destination(self, url: str) -> Pin:
        """The addresses this hop may connect to: resolved once, here, and every one checked."""
        try:
            parts = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise MediaError("refused", f"invalid media URL: {error}") from None
        scheme, host = parts.scheme, parts.raw_host.decode("ascii")  # the name httpcore connects and verifies
        if scheme != "https" and not (scheme == "http" and self.policy.allow_plain_http):
            raise MediaError("refused", f"only https media URLs are allowed, not {scheme}://")
        if not host:
            raise MediaError("refused", "media URL has no host")
        if not self.policy.allows_host(host):
            raise MediaError("refused", f"host {host} is not in the allowed media hosts")
        port = parts.port or (443 if scheme == "https" else 80)
        addresses = await self._addresses(host, port)
        if not self.policy.allow_private_networks:
            for address in addresses:
                if not _is_public(address):
                    raise MediaError("refused", f"{host} resolves to non-public address {address}")
        return Pin(host=host, port=port, addresses=tuple(addresses))

    async def _addresses(self, host: str, port: int) -> list[str]:
        if _is_ip_literal(host):
            return [host]
        try:
            addresses = await self.resolve(host, port)
        except OSError as error:
            raise MediaError("unavailable", f"cannot resolve {host}: {error}") from None
        if not addresses:
            raise MediaError("unavailable", f"{host} resolves to no address")
        return addresses


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_public(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


class _CappedHashingWriter:
    """Writes a staging file while hashing it, and stops at the size cap (mid-stream if need be).

    ``write`` and ``finish`` block (disk, hashing, the check): downloads run them in a worker thread.
    ``admit`` only counts, so the cap is enforced before a chunk over it is written.
    """

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self._file: BinaryIO | None = None
        self._digest = hashlib.sha256()
        self._max_bytes = max_bytes
        self.size = 0

    def admit(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise MediaError("too_large", f"the media is larger than the cap of {self._max_bytes} bytes")

    def write(self, chunk: bytes) -> None:
        """Append an admitted chunk; the first write creates the file (exclusively, 0600)."""
        if self._file is None:
            descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            self._file = os.fdopen(descriptor, "wb", buffering=0)  # unbuffered: closing never writes
        self._digest.update(chunk)
        self._file.write(chunk)

    def finish(self, last_chunk: bytes, kind: CreativeKind) -> FetchedMedia:
        """Write the last admitted chunk, close the file and check it is a whole ``kind``."""
        self.write(last_chunk)
        self.__exit__()
        mime, extension = inspect_media(self.path, kind)
        return FetchedMedia(self.path, self.sha256, self.size, kind, mime, extension)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __enter__(self) -> _CappedHashingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _refuse_if_signature_expired(url: str) -> None:
    # Meta's CDN signs URLs with oe=<hex unix expiry>; past it the CDN answers 403.
    expiry = parse_qs(urlsplit(url).query).get("oe")
    if expiry:
        try:
            expires_at = int(expiry[0], 16)
        except ValueError:
            return
        if expires_at < time.time():
            raise MediaError("expired", "the signed media URL has expired; re-scrape the ad to refresh it")


def _raise_for_status(response: httpx.Response) -> None:
    code = response.status_code
    if code < 300:
        return
    if code in (403, 410):
        raise MediaError("expired", f"the CDN refused the media URL (HTTP {code}); it has probably expired")
    if code in (404,):
        raise MediaError("unavailable", "the media URL no longer exists (HTTP 404)")
    if code == 429 or code >= 500:
        raise MediaError("unavailable", f"the CDN answered HTTP {code}; the next run retries it")
    raise MediaError("refused", f"the CDN answered HTTP {code}")
