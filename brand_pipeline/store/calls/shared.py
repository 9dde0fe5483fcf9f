"""Every function-backed part in one base, so both stores list them once and alike."""

from __future__ import annotations

from brand_pipeline.store.calls.ads import AdCalls
from brand_pipeline.store.calls.analyses import AnalysisCalls
from brand_pipeline.store.calls.checks import CheckCalls
from brand_pipeline.store.calls.lineage import LineageCalls
from brand_pipeline.store.calls.personas import PersonaCalls
from brand_pipeline.store.calls.reporting import ReportingCalls
from brand_pipeline.store.calls.reports import ReportCalls
from brand_pipeline.store.calls.scraping import ScrapeCalls


class SharedCalls(
    AdCalls, ScrapeCalls, AnalysisCalls, PersonaCalls, LineageCalls, CheckCalls, ReportingCalls, ReportCalls
):
    """The store operations written once for both stores (SQL functions of the migrations)."""
