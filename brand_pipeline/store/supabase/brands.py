"""Brands through PostgREST's table routes: upserts that leave unsent columns as they were."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from brand_pipeline.domain.brands import Brand
from brand_pipeline.store.supabase.base import SupabaseRows

_COLUMNS = "slug,name,facebook_page_id,ad_library_url,website,brand_group,archived_at"


def _brand(row: dict[str, Any]) -> Brand:
    return Brand.model_validate(row | {"group": row.pop("brand_group")})


class BrandRows(SupabaseRows):
    async def upsert_brands(self, brands: Sequence[Brand]) -> None:
        """A brand's unset fields are not sent, so they keep what the row holds (as PostgresStore's
        COALESCE does); an upserted brand is active again. Timestamps are this client's clock."""
        now = datetime.now(UTC).isoformat()
        rows = []
        for brand in brands:
            row = brand.model_dump(mode="json", exclude={"archived_at", "group"}, exclude_none=True)
            if brand.group is not None:
                row["brand_group"] = brand.group
            rows.append(row | {"archived_at": None, "updated_at": now})
        await self._upsert("brands", rows, ("slug",))

    async def ensure_brand(self, slug: str) -> Brand:
        """The brand row, creating a minimal one (name = slug) for a partition added in the UI."""
        brand = Brand(slug=slug, name=slug)  # validates the slug
        await self._upsert("brands", [{"slug": brand.slug, "name": brand.name}], ("slug",), ignore_duplicates=True)
        stored = await self.get_brand(slug)
        assert stored is not None
        return stored

    async def get_brand(self, slug: str) -> Brand | None:
        rows = await self._select("brands", ("slug",), lambda r: r.eq("slug", slug), _COLUMNS)
        return _brand(rows[0]) if rows else None

    async def list_brands(self, *, include_archived: bool = False) -> list[Brand]:
        active = (lambda r: r) if include_archived else (lambda r: r.is_("archived_at", "null"))
        return [_brand(row) for row in await self._select("brands", ("slug",), active, _COLUMNS)]

    async def archive_brand(self, slug: str) -> bool:
        """False when there is no active brand ``slug`` (the port's answer, not an error)."""
        now = datetime.now(UTC).isoformat()
        request = (
            self._client.table("brands")
            .update({"archived_at": now, "updated_at": now})
            .eq("slug", slug)
            .is_("archived_at", "null")
        )
        return bool((await self._execute(request, "archive_brand")).data)
