"""Markdown for materialisation previews (rendered by the Dagster UI)."""

from __future__ import annotations

from typing import Any


def cell(value: Any, width: int = 80) -> str:
    """``value`` as one Markdown table cell: pipes escaped, one line, at most ``width`` characters."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ")[:width]
