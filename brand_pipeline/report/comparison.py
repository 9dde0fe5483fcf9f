"""Brands side by side: how much each runs and launches, in what formats, with what offers, how
long its ads last, what angles it takes, and how alike the people it talks to are.

Persona overlap is the Jaccard index of two brands' persona vocabularies: the distinct content
words (four letters or more, common words left out) of the desires and pain points of all their
personas; shared words over all words. Exact phrases almost never repeat between two model
syntheses, words do; 0 means nothing in common, 1 the same vocabulary.
"""

from __future__ import annotations

import re
import statistics
from datetime import datetime

from brand_pipeline.domain.personas import Persona
from brand_pipeline.markdown import cell
from brand_pipeline.report import metrics, svg
from brand_pipeline.report.models import Comparison, ComparisonBrand, ComparisonRow, canonical_hash
from brand_pipeline.report.page import PROXY_NOTE, days_text, empty, figure, page
from brand_pipeline.report.svg import e

WEEKS = 8
TOP_ANGLES = 3
_WORD = re.compile(r"[a-z][a-z'-]{3,}")
_COMMON = frozenset(
    "that this with from their them they have been were will would could should about into more most "
    "less than then what when where which while your yours just like want wants feel feels feeling being "
    "make makes made does doing done over also only very much many some such other every without "
    "can't don't doesn't need needs something things thing really".split()
)


def comparison_inputs_hash(brands: list[ComparisonBrand], group: str | None, *, generated_at: datetime) -> str:
    """What the page is made of: the same hash, the same page (checked before rendering it)."""
    payload = {
        "group": group,
        "generated_at": generated_at.isoformat(),
        "brands": [b.model_dump(mode="json") for b in brands],
    }
    return canonical_hash(payload)


def render_comparison(brands: list[ComparisonBrand], group: str | None, *, generated_at: datetime) -> Comparison:
    """The brands of ``group`` (or any set of brands) compared on one page, as of ``generated_at``."""
    rows = [comparison_row(brand, generated_at) for brand in brands]
    vocabularies = {b.brand_slug: persona_vocabulary(b.personas) for b in brands}
    overlap = {a: {b: jaccard(vocabularies[a], vocabularies[b]) for b in vocabularies} for a in vocabularies}
    labels = [p.label for p in metrics.weeks(generated_at, WEEKS)]
    title = f"Comparison: {group}" if group else "Brands compared"
    names = ", ".join(b.brand_name for b in brands)
    header = (
        '<p class="kicker">Paid social ads · comparison</p>'
        f"<h1>{e(title)}</h1>"
        f'<p class="meta">{e(names) or "no brands"} · generated {generated_at:%d %B %Y, %H:%M %Z}</p>'
    )
    body = "".join(
        [
            f'<p class="note" data-section="proxy-note"><strong>No performance data.</strong> {e(PROXY_NOTE)}</p>',
            '<h2 id="side-by-side">Side by side</h2>',
            side_by_side(rows),
            '<h2 id="activity">Activity and formats</h2>',
            _charts(rows, labels),
            '<h2 id="persona-overlap">Who they talk to</h2>',
            overlap_matrix(rows, overlap),
        ]
    )
    inputs_hash = comparison_inputs_hash(brands, group, generated_at=generated_at)
    footer = f"Self-contained report; nothing is loaded from the network. Inputs <code>{inputs_hash[:16]}</code>."
    return Comparison(
        html=page(title, header, body, footer),
        markdown=comparison_markdown(title, rows),
        rows=rows,
        persona_overlap=overlap,
        inputs_hash=inputs_hash,
    )


def comparison_row(brand: ComparisonBrand, now: datetime) -> ComparisonRow:
    ads = metrics.timed(brand.ads, now)
    dated = [t.days for t in ads if t.ad.start_date is not None]
    angles = metrics.weighted(ads, lambda ad: [ad.angle or ""], top=TOP_ANGLES)
    angles_from = "copy analyses"
    if not angles:
        angles, angles_from = metrics.weighted(ads, lambda ad: [ad.hook or ""], top=TOP_ANGLES), "hooks"
    return ComparisonRow(
        brand_slug=brand.brand_slug,
        brand_name=brand.brand_name,
        ads_seen=len(ads),
        active_now=sum(1 for t in ads if t.running),
        launches_per_week=metrics.launches(ads, metrics.weeks(now, WEEKS)),
        format_mix=metrics.format_shares(ads),
        offer_share=sum(1 for t in ads if t.ad.offers) / len(ads) if ads else None,
        median_days_running=round(statistics.median(dated), 1) if dated else None,
        top_angles=[a.value for a in angles],
        angles_from=angles_from,
        persona_terms=len(persona_vocabulary(brand.personas)),
    )


def persona_vocabulary(personas: list[Persona]) -> set[str]:
    words: set[str] = set()
    for persona in personas:
        for key in ("desires", "pain_points"):
            for phrase in persona.profile.get(key) or []:
                words.update(w.strip("'-") for w in _WORD.findall(str(phrase).lower()))
    return {w for w in words if len(w) >= 4 and w not in _COMMON}


def jaccard(a: set[str], b: set[str]) -> float | None:
    """Shared over all; None when neither brand has persona words to compare."""
    return round(len(a & b) / len(a | b), 3) if a | b else None


def side_by_side(rows: list[ComparisonRow]) -> str:
    if not rows:
        return empty("No brands to compare.")
    head = (
        '<tr><th>Brand</th><th class="num">Ads seen</th><th class="num">Active now</th>'
        '<th class="num">Launched, last 8 weeks</th><th class="num">Median run</th>'
        '<th class="num">Ads with an offer</th><th>Top angles</th></tr>'
    )
    body = []
    for r in rows:
        angles = "".join(f"<li>{e(a)}</li>" for a in r.top_angles) or "<li>—</li>"
        source = "" if r.angles_from == "copy analyses" else '<p class="ids">from hooks: no analysed angle yet</p>'
        body.append(
            f'<tr data-brand="{e(r.brand_slug)}"><td><strong>{e(r.brand_name)}</strong></td>'
            f'<td class="num">{r.ads_seen:,}</td><td class="num">{r.active_now:,}</td>'
            f'<td class="num">{sum(r.launches_per_week):,}</td>'
            f'<td class="num">{e(days_text(r.median_days_running))}</td>'
            f'<td class="num">{_share(r.offer_share)}</td><td><ul>{angles}</ul>{source}</td></tr>'
        )
    table = f'<table class="compare" data-section="side-by-side"><thead>{head}</thead><tbody>{"".join(body)}</tbody>'
    return table + "</table>"


def _charts(rows: list[ComparisonRow], labels: list[str]) -> str:
    if not rows:
        return ""
    names = [r.brand_name for r in rows]
    launches = svg.small_multiples(
        [(r.brand_name, r.launches_per_week) for r in rows], labels, label="Launches per week"
    )
    mix = svg.share_bars([(r.brand_name, r.format_mix) for r in rows], label="Format mix")
    offers = svg.hbars(
        [(n, (r.offer_share or 0) * 100, _share(r.offer_share)) for n, r in zip(names, rows, strict=True)],
        label="Share of ads with an offer",
    )
    median = svg.hbars(
        [(n, r.median_days_running or 0, days_text(r.median_days_running)) for n, r in zip(names, rows, strict=True)],
        label="Median days running",
    )
    return "".join(
        [
            figure(
                "launches-per-week",
                "Launches per week",
                f"New ads per seven-day week over the last {WEEKS} weeks, one shared scale for all brands.",
                launches,
            ),
            figure("format-mix", "Format mix", "Share of each brand's ads by display format.", mix),
            figure(
                "offer-share",
                "Offers and discounts",
                "Share of each brand's ads whose copy makes an offer (a discount, free shipping, a code, a guarantee).",
                offers,
            ),
            figure(
                "median-days-running",
                "Median days running",
                "Half of each brand's ads ran longer than this, half shorter.",
                median,
            ),
        ]
    )


def overlap_matrix(rows: list[ComparisonRow], overlap: dict[str, dict[str, float | None]]) -> str:
    caption = (
        "Jaccard index of the brands' persona vocabularies: the distinct content words of all their "
        "personas' desires and pain points that both brands use, over all the words either uses. "
        "0 = nothing in common, 1 = the same words; — where a brand has no personas yet."
    )
    head = "<tr><th></th>" + "".join(f"<th>{e(r.brand_name)}</th>" for r in rows) + "</tr>"
    body = []
    for a in rows:
        cells = []
        for b in rows:
            value = overlap[a.brand_slug][b.brand_slug]
            if a is b:
                cells.append('<td class="self">same brand</td>')
                continue
            shade = f' style="background:rgba(36,89,199,{value * 0.45 + 0.04:.2f})"' if value is not None else ""
            cells.append(f"<td{shade}>{'—' if value is None else f'{value:.2f}'}</td>")
        body.append(f"<tr><th>{e(a.brand_name)}</th>{''.join(cells)}</tr>")
    table = f'<table class="compare matrix"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
    return figure("persona-overlap", "Persona overlap", caption, table if rows else empty("No brands."))


def comparison_markdown(title: str, rows: list[ComparisonRow]) -> str:
    lines = [f"**{cell(title)}**", "", "| brand | ads | active | launched, 8 weeks | median run | with offer |"]
    lines.append("|---|---|---|---|---|---|")
    for r in rows:
        lines.append(
            f"| {cell(r.brand_name)} | {r.ads_seen} | {r.active_now} | {sum(r.launches_per_week)} | "
            f"{days_text(r.median_days_running)} | {_share(r.offer_share)} |"
        )
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"
