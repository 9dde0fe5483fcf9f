"""Brands: the research targets, one Dagster partition each."""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.domain.brands import Brand
from brand_pipeline.store.postgres.base import PostgresRows, json_rows
from brand_pipeline.store.rows import dedupe

_BRAND = 'slug, name, facebook_page_id, ad_library_url, website, brand_group AS "group", archived_at'


class BrandRows(PostgresRows):
    async def upsert_brands(self, brands: Sequence[Brand]) -> None:
        rows = dedupe((b.model_dump(mode="json", exclude={"archived_at"}) for b in brands), "slug")
        await self._fetch(
            """
                INSERT INTO brands (slug, name, facebook_page_id, ad_library_url, website, brand_group)
                SELECT slug, name, facebook_page_id, ad_library_url, website, "group"
                FROM jsonb_to_recordset(%s) AS x(slug text, name text, facebook_page_id text,
                                                 ad_library_url text, website text, "group" text)
                ON CONFLICT (slug) DO UPDATE SET
                    name = EXCLUDED.name,
                    facebook_page_id = COALESCE(EXCLUDED.facebook_page_id, brands.facebook_page_id),
                    ad_library_url = COALESCE(EXCLUDED.ad_library_url, brands.ad_library_url),
                    website = COALESCE(EXCLUDED.website, brands.website),
                    brand_group = COALESCE(EXCLUDED.brand_group, brands.brand_group),
                    archived_at = NULL,
                    updated_at = now()
                """,
            [json_rows(rows)],
            what="upsert_brands",
        )

    async def ensure_brand(self, slug: str) -> Brand:
        """The brand row, creating a minimal one (name = slug) for a partition added in the UI."""
        brand = Brand(slug=slug, name=slug)  # validates the slug
        await self._fetch(
            "INSERT INTO brands (slug, name) VALUES (%s, %s) ON CONFLICT (slug) DO NOTHING",
            [brand.slug, brand.name],
            what="ensure_brand",
        )
        stored = await self.get_brand(slug)
        assert stored is not None
        return stored

    async def get_brand(self, slug: str) -> Brand | None:
        rows = await self._fetch(f"SELECT {_BRAND} FROM brands WHERE slug = %s", [slug])
        return Brand.model_validate(rows[0]) if rows else None

    async def list_brands(self, *, include_archived: bool = False) -> list[Brand]:
        rows = await self._fetch(
            f"SELECT {_BRAND} FROM brands WHERE %s OR archived_at IS NULL ORDER BY slug", [include_archived]
        )
        return [Brand.model_validate(row) for row in rows]

    async def archive_brand(self, slug: str) -> bool:
        rows = await self._fetch(
            "UPDATE brands SET archived_at = now(), updated_at = now() "
            "WHERE slug = %s AND archived_at IS NULL RETURNING slug",
            [slug],
        )
        return bool(rows)
