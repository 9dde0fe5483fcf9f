"""The assets. Thin: open, fetch what is missing, process, store, report.

Per brand: the five research assets (``ALL_ASSETS``) and the brand's report page; across brands:
the comparison.

No ``from __future__ import annotations`` in these modules: Dagster reads parameter annotations
at definition time to find the context and the resources.
"""

from brand_pipeline.assets.analyses import copy_analyses, image_analyses, video_analyses
from brand_pipeline.assets.check_metadata import check_metadata
from brand_pipeline.assets.personas import personas
from brand_pipeline.assets.reports import brand_comparison, brand_report
from brand_pipeline.assets.scraped_ads import scraped_ads

ALL_ASSETS = [scraped_ads, video_analyses, image_analyses, copy_analyses, personas]
ANALYSIS_AND_PERSONAS = [video_analyses, image_analyses, copy_analyses, personas]
BRAND_ASSETS = [*ALL_ASSETS, brand_report]  # everything a brand's partition holds

__all__ = [
    "ALL_ASSETS",
    "ANALYSIS_AND_PERSONAS",
    "BRAND_ASSETS",
    "brand_comparison",
    "brand_report",
    "check_metadata",
    "copy_analyses",
    "image_analyses",
    "personas",
    "scraped_ads",
    "video_analyses",
]
