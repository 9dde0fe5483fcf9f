"""The five brand-partitioned assets. Thin: open, fetch what is missing, process, store, report.

No ``from __future__ import annotations`` in these modules: Dagster reads parameter annotations
at definition time to find the context and the resources.
"""

from brand_pipeline.assets.analyses import copy_analyses, image_analyses, video_analyses
from brand_pipeline.assets.personas import personas
from brand_pipeline.assets.scraped_ads import scraped_ads

ALL_ASSETS = [scraped_ads, video_analyses, image_analyses, copy_analyses, personas]
ANALYSIS_AND_PERSONAS = [video_analyses, image_analyses, copy_analyses, personas]

__all__ = [
    "ALL_ASSETS",
    "ANALYSIS_AND_PERSONAS",
    "copy_analyses",
    "image_analyses",
    "personas",
    "scraped_ads",
    "video_analyses",
]
