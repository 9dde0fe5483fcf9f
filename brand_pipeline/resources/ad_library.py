"""``AdLibraryResource``: where ads come from, and how their media may be downloaded.

Sources: ``sample`` (the synthetic offline set the project generates under ``<home>/sample``) and
``file`` (Apify Ad Library exports, ``<slug>.json`` / ``<slug>.ndjson``, in ``export_dir``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import httpx
from pydantic import Field

from brand_pipeline.resources.config import SettingsCheck
from brand_pipeline.sources.base import AdSource, SourceError
from brand_pipeline.sources.file_export import FileExportSource
from brand_pipeline.sources.media import DEFAULT_USER_AGENT, META_MEDIA_HOSTS, MediaFetcher, MediaPolicy
from brand_pipeline.sources.pinned_http import pinned_client


@dataclass(frozen=True)
class AdLibrary:
    source: AdSource
    fetcher: MediaFetcher


class AdLibraryResource(dg.ConfigurableResource, SettingsCheck):
    source: Literal["sample", "file"] = Field(default="sample", description="Where ads come from.")
    export_dir: str | None = Field(default=None, description="Folder of <slug>.json/.ndjson exports (source=file).")
    home: str = Field(description="Pipeline home; the sample set is generated under <home>/sample.")
    max_media_mb: int = Field(default=200, ge=1, description="Largest creative downloaded, in MiB.")
    media_timeout_s: float = Field(default=60.0, gt=0, description="Longest a single download may take.")
    media_hosts: list[str] = Field(
        default=list(META_MEDIA_HOSTS),
        description="Download media only from these hosts and their subdomains (default: Meta's CDNs, "
        "fbcdn.net, fbsbx.com, cdninstagram.com). Empty list: any public host.",
    )
    media_user_agent: str = Field(
        default=DEFAULT_USER_AGENT, description="User-Agent of media downloads (some CDNs refuse non-browsers)."
    )
    allow_plain_http_media: bool = Field(default=False, description="Allow http:// media (default https only).")
    allow_private_media_hosts: bool = Field(
        default=False, description="Allow media on private/loopback addresses (tests only; SSRF risk)."
    )
    download_concurrency: int = Field(default=8, ge=1, description="Creatives downloaded at once.")

    async def prepare_export_folder(self) -> Path:
        """The folder of exports to read; for ``sample``, generate the sample set there first if
        it is missing (CPU-bound, so in a worker thread, never on the event loop)."""
        if self.source == "sample":
            from brand_pipeline.sample import ensure_sample

            folder = Path(self.home) / "sample"
            await asyncio.to_thread(ensure_sample, folder)
            return folder
        if not self.export_dir:
            raise SourceError("source 'file' needs export_dir (set BRAND_PIPELINE_EXPORT_DIR)")
        return Path(self.export_dir)

    @asynccontextmanager
    async def open(self, staging_dir: Path) -> AsyncIterator[AdLibrary]:
        """The source and a media fetcher whose HTTP client lives only inside this block."""
        self.raise_if_misconfigured()
        source = FileExportSource(await self.prepare_export_folder())
        policy = MediaPolicy(
            max_bytes=self.max_media_mb * 1024 * 1024,
            timeout_s=self.media_timeout_s,
            allow_plain_http=self.allow_plain_http_media,
            allow_private_networks=self.allow_private_media_hosts,
            allowed_hosts=tuple(self.media_hosts),
            user_agent=self.media_user_agent,
        )
        timeout = httpx.Timeout(min(30.0, self.media_timeout_s))
        async with pinned_client(timeout=timeout) as http:
            fetcher = MediaFetcher(staging_dir=staging_dir, policy=policy, http=http, base_dir=source.media_base_dir)
            yield AdLibrary(source=source, fetcher=fetcher)
