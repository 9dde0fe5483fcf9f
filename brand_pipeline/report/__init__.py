"""Brand reports for people who want to look, not read: one self-contained HTML page per brand,
and brands side by side. Pure rendering: typed inputs in (``models``), HTML and numbers out; the
callers read the store. ``alerts`` tells a Slack-compatible webhook when a brand launches ads."""

from brand_pipeline.report.brand import render_brand_report
from brand_pipeline.report.comparison import comparison_inputs_hash, render_comparison
from brand_pipeline.report.models import (
    BrandHeadline,
    BrandReport,
    BrandReportInput,
    Comparison,
    ComparisonBrand,
    ComparisonRow,
    ReportAd,
    ReportCreative,
)
from brand_pipeline.report.thumbnails import ThumbnailCache

__all__ = [
    "BrandHeadline",
    "BrandReport",
    "BrandReportInput",
    "Comparison",
    "ComparisonBrand",
    "ComparisonRow",
    "ReportAd",
    "ReportCreative",
    "ThumbnailCache",
    "render_brand_report",
    "comparison_inputs_hash",
    "render_comparison",
]
