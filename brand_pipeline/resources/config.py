"""What every resource shares: settings the environment got wrong, reported where they matter.

A bad environment setting must not stop Dagster from loading the project (the UI would show an
import error instead of the problem): the wiring site records it on the resource, and opening the
resource fails the step with the setting's message as its description. The CLI refuses such
settings at start-up instead.
"""

from __future__ import annotations

import dagster as dg
from pydantic import BaseModel, Field


class SettingsCheck(BaseModel):
    setting_errors: list[str] = Field(
        default=[], description="Environment settings refused at start-up; opening the resource fails with them."
    )

    def raise_if_misconfigured(self) -> None:
        if self.setting_errors:
            raise dg.Failure(description="; ".join(self.setting_errors))
