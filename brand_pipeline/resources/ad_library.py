"""``AdLibraryResource``: where ads come from, and how their media may be downloaded.

Sources: ``sample`` (the synthetic offline set the project generates under ``<home>/sample``),
``file`` (Apify Ad Library exports, ``<slug>.json`` / ``<slug>.ndjson``, in ``export_dir``),
``apify`` (the Ad Library actor, with ``APIFY_TOKEN``) and ``meta`` (Meta's Ad Library API, with
``META_ACCESS_TOKEN``; text and reach only).
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
from pydantic import Field, SecretStr

from brand_pipeline.resources.config import SettingsCheck
from brand_pipeline.sources.apify import ApifySource, StoreRunLedger
from brand_pipeline.sources.apify_settings import ApifyScrape, ApifySettings
from brand_pipeline.sources.base import AdSource, SourceError
from brand_pipeline.sources.file_export import FileExportSource
from brand_pipeline.sources.media import DEFAULT_USER_AGENT, META_MEDIA_HOSTS, MediaFetcher, MediaPolicy
from brand_pipeline.sources.meta_ads import MetaAdLibrarySettings, MetaAdLibrarySource, MetaQuery
from brand_pipeline.sources.pinned_http import pinned_client
from brand_pipeline.store.protocol import BrandStore


@dataclass(frozen=True)
class AdLibrary:
    source: AdSource
    fetcher: MediaFetcher


class ApifyConfig(dg.Config, ApifyScrape):
    """The Apify actor's settings (``BRAND_PIPELINE_APIFY_<FIELD>``)."""


class MetaConfig(dg.Config, MetaQuery):
    """The Ad Library API's settings (``BRAND_PIPELINE_META_<FIELD>``)."""


class AdLibraryResource(dg.ConfigurableResource, SettingsCheck):
    source: Literal["sample", "file", "apify", "meta"] = Field(default="sample", description="Where ads come from.")
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
    apify_token: str | None = Field(default=None, description="Apify API token (from APIFY_TOKEN).")
    apify: ApifyConfig = Field(default=ApifyConfig(), description="The Apify actor (source=apify).")
    meta_access_token: str | None = Field(default=None, description="Graph API token (from META_ACCESS_TOKEN).")
    meta: MetaConfig = Field(default=MetaConfig(), description="The Ad Library API (source=meta).")

    def __repr__(self) -> str:  # tokens stay out of logs and tracebacks
        return f"AdLibraryResource(source={self.source!r})"

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

    async def ad_source(self, store: BrandStore | None, run_key: str, *, fresh: bool = False) -> AdSource:
        """The configured source. A paid one (Apify) records its runs in ``store`` under ``run_key``
        (the root Dagster run), so a re-executed step resumes the run it paid for; ``fresh`` starts
        a new one anyway."""
        if self.source == "apify":
            if not self.apify_token:
                raise SourceError("source 'apify' needs APIFY_TOKEN (an Apify API token)")
            if store is None:
                raise SourceError("source 'apify' records its paid runs in the store: pass one")
            options = self.apify.model_dump() | ({"fresh_scrape": True} if fresh else {})
            settings = ApifySettings(token=SecretStr(self.apify_token), **options)
            return ApifySource(settings, StoreRunLedger(store, run_key), run_key=run_key)
        if self.source == "meta":
            if not self.meta_access_token:
                raise SourceError("source 'meta' needs META_ACCESS_TOKEN (a Graph API user access token)")
            if not self.meta.reached_countries:
                raise SourceError("source 'meta' needs BRAND_PIPELINE_META_REACHED_COUNTRIES (e.g. DE,FR)")
            settings = MetaAdLibrarySettings(access_token=SecretStr(self.meta_access_token), **self.meta.model_dump())
            return MetaAdLibrarySource(settings)
        return FileExportSource(await self.prepare_export_folder())

    @asynccontextmanager
    async def open(
        self, staging_dir: Path, *, store: BrandStore | None = None, run_key: str = "", fresh: bool = False
    ) -> AsyncIterator[AdLibrary]:
        """The source and a media fetcher whose HTTP client lives only inside this block."""
        self.raise_if_misconfigured()
        source = await self.ad_source(store, run_key, fresh=fresh)
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
