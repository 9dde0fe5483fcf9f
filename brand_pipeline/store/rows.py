"""Rows as both stores send them: plain JSON objects built from the domain types.

Every row of a kind carries the same keys (a key left out would be written as NULL by a bulk
upsert, or leave a column as it was: neither may depend on which rows share a batch), and each
batch is de-duplicated on its conflict key first, the last row given winning: Postgres refuses an
upsert that touches the same row twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter

from brand_pipeline.domain.ads import AdRecord, copy_hash, is_running
from brand_pipeline.domain.personas import PersonaSynthesis
from brand_pipeline.store.models import AdCreativeLink, CopyAnalysis, Creative, CreativeAnalysis, ItemOutcome

BATCH_SIZE = 500


def batches(rows: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def dedupe(rows: Iterable[dict[str, Any]], *key: str) -> list[dict[str, Any]]:
    """One row per key, the last one given winning (in the position of the key's first row)."""
    latest: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        latest[tuple(row[k] for k in key)] = row
    return list(latest.values())


class _NotPlainJson(Exception):
    pass


def _refuse(value: object) -> object:
    raise _NotPlainJson


_DATETIME = TypeAdapter(datetime | None)
_AD_FIELDS = tuple(name for name in AdRecord.model_fields if name != "media")


def _canonical(ad: AdRecord, copy_text: str) -> str:
    """``json.dumps`` (sorted keys) of the row as ``model_dump(mode="json")`` gives it.

    Reading the fields as they are and serialising only the two datetimes the JSON way gives the
    same text, cheaper; a snapshot holding anything but plain JSON values takes the long way."""
    extra = {"copy_text": copy_text, "copy_hash": copy_hash(copy_text) if copy_text.strip() else None}
    row = {name: getattr(ad, name) for name in _AD_FIELDS} | extra  # json.dumps only reads them
    row["start_date"] = _DATETIME.dump_python(row["start_date"], mode="json")
    row["end_date"] = _DATETIME.dump_python(row["end_date"], mode="json")
    try:
        return json.dumps(row, sort_keys=True, default=_refuse)
    except (_NotPlainJson, TypeError):
        return json.dumps(ad.model_dump(mode="json", exclude={"media"}) | extra, sort_keys=True, default=str)


def ad_json(ad: AdRecord) -> str:
    """The ads row as one JSON object text, with its content hash (what the source said, so an
    unchanged ad is not rewritten) and whether the source shows the ad running.

    The hash is the ad's own (``AdRecord.content_hash``: what the source said, media URLs without
    their short-lived signatures, so a re-scrape that only re-signed them rewrites nothing).
    ``bp_upsert_ads`` reads these objects."""
    canonical = _canonical(ad, ad.copy_text)
    content_hash = ad.content_hash
    running = "true" if is_running(ad) else "false"
    return f'{canonical[:-1]}, "content_hash": "{content_hash}", "running": {running}}}'


def json_array(texts: Iterable[str]) -> str:
    return "[" + ", ".join(texts) + "]"


def analysis_row(analysis: CreativeAnalysis | CopyAnalysis) -> dict[str, Any]:
    """Every column of ``bp_analysis_input``: creative rows leave the copy's empty and vice versa."""
    row = {"sha256": None, "kind": None, "copy_hash": None, "copy_text": None}
    row |= analysis.model_dump(mode="json", exclude={"semantic"})
    semantic = analysis.semantic
    row |= {
        "semantic": semantic.result,
        "semantic_status": semantic.status,
        "semantic_reason": semantic.reason,
        "raw_reply": semantic.raw_reply,
        "model": semantic.model,
        "input_tokens": semantic.input_tokens,
        "output_tokens": semantic.output_tokens,
        "cost_usd": semantic.cost_usd,
        "attempts": semantic.attempts,
    }
    return row


def outcome_rows(outcomes: Iterable[ItemOutcome]) -> list[dict[str, Any]]:
    fields = {"item_key", "kind", "ad_archive_id", "slot", "status", "reason", "detail"}
    return dedupe((o.model_dump(mode="json", include=fields) for o in outcomes), "item_key")


def creative_rows(creatives: Iterable[Creative]) -> list[dict[str, Any]]:
    return dedupe((c.model_dump(mode="json") for c in creatives), "sha256")


def link_rows(links: Iterable[AdCreativeLink]) -> list[dict[str, Any]]:
    return dedupe((link.model_dump(mode="json") for link in links), "ad_archive_id", "slot")


def synthesis_row(synthesis: PersonaSynthesis) -> dict[str, Any]:
    return synthesis.model_dump(mode="json", exclude={"id", "personas", "attempts"})


def persona_rows(synthesis: PersonaSynthesis) -> list[dict[str, Any]]:
    fields = {"name", "profile", "evidence_ad_ids", "evidence_creative_shas", "evidence_copy_hashes"}
    return [p.model_dump(mode="json", include=fields) for p in synthesis.personas]
