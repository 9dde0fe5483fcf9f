"""What every check result shows in the UI: how much was checked, how many problems, examples."""

from __future__ import annotations

import dagster as dg


def check_metadata(problems: list[str], checked: int, what: str) -> dict[str, dg.RawMetadataValue]:
    return {
        "checked": checked,
        "problems": len(problems),
        "examples": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems[:20]) or f"every {what} is fine"),
    }
