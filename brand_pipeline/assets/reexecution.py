"""What a re-executed batch need not scrape again: the brands an earlier run of its lineage finished.

To Dagster a step is all or nothing, so re-executing a batch that failed (from failure, in the UI
or by the run retry daemon) runs the whole step again. The brands it scraped before are done:
their materialisation is in the event log under a run of the same lineage (the root run and its
re-executions, which carry the ``dagster/root_run_id`` tag), so a re-execution scrapes only the
others. A brand whose blocking check failed on that materialisation is not done: scraping it again
is what may fix it (media fetched anew). A run that is not a re-execution scrapes every brand, so
a new run (not "Re-execute") is how to scrape a whole batch again.
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

ROOT_RUN_ID_TAG = "dagster/root_run_id"  # what Dagster tags every re-execution of a root run with


def finished_in_lineage(
    instance: dg.DagsterInstance, run: dg.DagsterRun, asset_key: dg.AssetKey, brand_slugs: Sequence[str]
) -> dict[str, str]:
    """brand -> the earlier run of ``run``'s lineage that materialised it with no blocking check
    failed; empty unless ``run`` is a re-execution."""
    if run.parent_run_id is None:
        return {}
    root = run.root_run_id or run.parent_run_id
    earlier = [root, *instance.get_run_ids(dg.RunsFilter(tags={ROOT_RUN_ID_TAG: root}))]
    wanted, finished = set(brand_slugs), {}
    for run_id in dict.fromkeys(earlier):
        if run_id != run.run_id:
            for slug in _finished_by(instance, run_id, asset_key) & wanted:
                finished.setdefault(slug, run_id)
    return finished


def _finished_by(instance: dg.DagsterInstance, run_id: str, asset_key: dg.AssetKey) -> set[str]:
    """The partitions of ``asset_key`` that run ``run_id`` materialised and failed no check on."""
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    materialised, failed = set(), set()
    for record in instance.get_records_for_run(run_id, of_type=kinds).records:
        entry = record.event_log_entry
        if (materialization := entry.asset_materialization) is not None:
            if materialization.asset_key == asset_key and materialization.partition:
                materialised.add(materialization.partition)
        elif (evaluation := entry.asset_check_evaluation) is not None:
            if evaluation.asset_key == asset_key and not evaluation.passed and evaluation.partition:
                failed.add(evaluation.partition)
    return materialised - failed
