"""The page around a report: one self-contained HTML file, its stylesheet, and shared pieces.

The file asks nothing of any other host when opened: styles are inline, fonts are the reader's
own, charts are SVG and images ``data:`` URIs. Its Content-Security-Policy says so to the
browser too, so even a URL that slipped into ad copy could not make it fetch anything, and no
script runs.
"""

from __future__ import annotations

from collections.abc import Sequence

from brand_pipeline.report.svg import e

CONTENT_SECURITY_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

PROXY_NOTE = (
    "Competitor ads carry no performance data: spend, reach and results are not public. "
    "How long an ad keeps running is used here as a proxy for what works — advertisers rarely keep "
    "paying for an ad that loses money — but it is a signal, not a result."
)

STYLE = """
:root { --ink:#1f2933; --muted:#616e7c; --line:#e4e7eb; --bg:#f5f7fa; --card:#fff; --accent:#2459c7;
  --warn-bg:#fff7e6; --warn:#b7791f; }
* { box-sizing:border-box; }
html { -webkit-print-color-adjust:exact; print-color-adjust:exact; }
body { margin:0; background:var(--bg); color:var(--ink); line-height:1.45;
  font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","Noto Sans","DejaVu Sans",Arial,
  sans-serif; }
main { max-width:1000px; margin:0 auto; padding:32px 28px 48px; }
header.report { border-bottom:3px solid var(--accent); padding-bottom:14px; margin-bottom:20px; }
header.report .kicker { text-transform:uppercase; letter-spacing:.08em; font-size:12px; color:var(--accent);
  font-weight:600; margin:0; }
h1 { font-size:32px; line-height:1.15; margin:4px 0 6px; letter-spacing:-.01em; }
header.report .meta { color:var(--muted); margin:0; font-size:14px; }
h2 { font-size:20px; margin:36px 0 12px; padding-bottom:6px; border-bottom:1px solid var(--line); }
h3 { font-size:16px; margin:0 0 4px; }
p { margin:0 0 8px; }
.note { background:var(--warn-bg); border-left:4px solid var(--warn); padding:10px 14px; border-radius:4px;
  margin:0 0 20px; font-size:14px; }
.note strong { color:#8a5a12; }
.tiles { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:12px; margin:0; padding:0; }
.tile-stat { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:12px 14px; }
.tile-stat dt { font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); }
.tile-stat dd { margin:2px 0 0; font-size:26px; font-weight:650; font-variant-numeric:tabular-nums; }
.tile-stat dd small { display:block; font-size:12px; font-weight:400; color:var(--muted); }
figure.chart { background:var(--card); border:1px solid var(--line); border-radius:8px; margin:0 0 16px;
  padding:16px 18px 10px; break-inside:avoid; }
figure.chart figcaption { margin-bottom:8px; }
figure.chart figcaption p { color:var(--muted); font-size:13px; }
figure.chart svg { display:block; width:100%; height:auto; font-family:inherit; }
.legend { list-style:none; display:flex; flex-wrap:wrap; gap:4px 14px; padding:0; margin:4px 0 0; font-size:12px; }
.legend li::before { content:""; display:inline-block; width:10px; height:10px; border-radius:2px;
  margin-right:5px; background:var(--swatch); vertical-align:-1px; }
.empty { color:var(--muted); font-style:italic; padding:18px 0; }
.gallery { display:grid; grid-template-columns:repeat(auto-fill,minmax(200px,1fr)); gap:14px; }
.creative { background:var(--card); border:1px solid var(--line); border-radius:8px; overflow:hidden;
  break-inside:avoid; display:flex; flex-direction:column; }
.thumb { position:relative; aspect-ratio:1/1; background:#e9edf2; display:flex; align-items:center;
  justify-content:center; }
.thumb img { position:absolute; inset:0; width:100%; height:100%; object-fit:cover; display:block; }
.thumb .missing { color:var(--muted); font-size:12px; padding:12px; text-align:center; }
.badge { position:absolute; left:8px; top:8px; background:rgba(17,24,39,.78); color:#fff; font-size:11px;
  padding:2px 7px; border-radius:10px; letter-spacing:.02em; }
.creative .body { padding:10px 12px 12px; font-size:13px; }
.days { font-weight:650; font-size:14px; }
.days .running { color:#1d7a55; font-weight:600; }
.days .ended { color:var(--muted); font-weight:400; }
.hook { margin:4px 0 6px; display:-webkit-box; -webkit-line-clamp:4; -webkit-box-orient:vertical; overflow:hidden; }
.ids { color:var(--muted); font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;
  overflow-wrap:anywhere; }
.personas { display:grid; grid-template-columns:repeat(auto-fill,minmax(300px,1fr)); gap:14px; }
.persona { background:var(--card); border:1px solid var(--line); border-top:4px solid var(--accent);
  border-radius:8px; padding:14px 16px; break-inside:avoid; font-size:14px; }
.persona .who { color:var(--muted); font-size:13px; }
.persona h4 { font-size:12px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:10px 0 4px; }
.persona ul { margin:0; padding-left:18px; }
.evidence { display:flex; flex-wrap:wrap; gap:6px; margin-top:4px; }
.evidence figure { margin:0; width:72px; font-size:10px; color:var(--muted); text-align:center; }
.evidence .thumb { border-radius:4px; overflow:hidden; }
.evidence .badge { font-size:9px; padding:0 4px; left:3px; top:3px; }
.caption { color:var(--muted); font-size:13px; margin-bottom:12px; }
table.compare { width:100%; border-collapse:collapse; background:var(--card); font-size:14px;
  border:1px solid var(--line); border-radius:8px; overflow:hidden; }
table.compare th, table.compare td { padding:8px 10px; border-bottom:1px solid var(--line); text-align:left;
  vertical-align:top; }
table.compare th { background:#eef2f7; font-size:12px; text-transform:uppercase; letter-spacing:.04em;
  color:var(--muted); }
table.compare td.num, table.compare th.num { text-align:right; font-variant-numeric:tabular-nums; }
table.compare ul { margin:0; padding-left:16px; }
table.matrix { width:auto; min-width:50%; }
table.matrix tbody th { text-transform:none; letter-spacing:0; font-size:13px; color:var(--ink); }
table.matrix td { text-align:center; min-width:110px; }
table.matrix td.self { color:var(--muted); background:#f5f7fa; }
footer.report { margin-top:36px; color:var(--muted); font-size:12px; border-top:1px solid var(--line);
  padding-top:10px; }
footer.report code { font-size:11px; }
@media print {
  @page { margin:14mm; }
  body { background:#fff; font-size:12px; }
  main { max-width:none; padding:0; }
  figure.chart, .creative, .persona, .tile-stat { border-color:#ccd2d9; }
  h2 { break-after:avoid; }
  .gallery, .tiles { grid-template-columns:repeat(4,1fr); }
}
"""


def page(title: str, header: str, body: str, footer: str) -> str:
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{e(title)}</title><style>{STYLE}</style></head>"
        f'<body><main><header class="report">{header}</header>{body}'
        f'<footer class="report">{footer}</footer></main></body></html>\n'
    )


def figure(chart: str, title: str, caption: str, content: str, extra: str = "") -> str:
    """A chart card findable as ``figure[data-chart=<chart>]``."""
    return (
        f'<figure class="chart" id="chart-{e(chart)}" data-chart="{e(chart)}">'
        f"<figcaption><h3>{e(title)}</h3><p>{e(caption)}</p>{extra}</figcaption>{content}</figure>"
    )


def html_legend(series: Sequence[str], colours: Sequence[str]) -> str:
    items = "".join(
        f'<li style="--swatch:{e(colour)}">{e(name)}</li>' for name, colour in zip(series, colours, strict=True)
    )
    return f'<ul class="legend">{items}</ul>'


def stat(label: str, value: str, detail: str = "") -> str:
    small = f"<small>{e(detail)}</small>" if detail else ""
    return f'<div class="tile-stat"><dt>{e(label)}</dt><dd>{e(value)}{small}</dd></div>'


def empty(text: str) -> str:
    return f'<p class="empty">{e(text)}</p>'


def thumb(data_uri: str | None, alt: str, badge: str | None = None) -> str:
    """A creative's square thumbnail, or a placeholder saying why there is none."""
    picture = f'<img src="{e(data_uri)}" alt="{e(alt)}">' if data_uri else '<span class="missing">no preview</span>'
    label = f'<span class="badge">{e(badge)}</span>' if badge else ""
    return f'<div class="thumb">{picture}{label}</div>'


def days_text(days: float | None) -> str:
    if days is None:
        return "—"
    return f"{days:.0f} day" + ("" if round(days) == 1 else "s")


def money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.4f}"
