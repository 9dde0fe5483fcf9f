"""Where the project keeps local state, and the names of the environment variables it reads.

Only the wiring site (``definitions.py``) and the CLI read the environment; everything else gets
plain values passed in.
"""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "BRAND_PIPELINE_HOME"
DEFAULT_HOME = ".brand_pipeline"


def pipeline_home() -> Path:
    """The local folder for the embedded database, creatives and the sample set."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()
