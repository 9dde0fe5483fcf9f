"""Where the project keeps local state, and how settings are read from the environment.

Only the wiring site (``definitions.py``) and the CLI read the environment; everything else gets
plain values passed in. Each setting is validated by pydantic against its field, so a bad value
(``GEMINI_REQUESTS_PER_MINUTE=abc``, ``BRAND_PIPELINE_ALLOW_PLAIN_HTTP_MEDIA=ture``) is refused
at start-up with a message naming the variable, the value and what is accepted — never coerced
into something else silently.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

HOME_ENV = "BRAND_PIPELINE_HOME"
DEFAULT_HOME = ".brand_pipeline"


class SettingError(ValueError):
    """An environment variable holds a value its setting does not accept."""

    def __init__(self, variable: str, shown_value: str, accepted: str) -> None:
        super().__init__(f"{variable}={shown_value} is not accepted: {accepted}")
        self.variable = variable


class SettingConflict(SettingError):
    """Environment variables that are each acceptable but not in this combination; the message
    names every variable involved."""

    def __init__(self, variables: tuple[str, ...], message: str) -> None:
        ValueError.__init__(self, message)
        self.variable = variables[0]
        self.variables = variables


def pipeline_home() -> Path:
    """The local folder for the embedded database, creatives and the sample set."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser().resolve()


def settings_from_env(
    model: type[BaseModel], prefix: str, *, skip: set[str] = frozenset(), secret: set[str] = frozenset()
) -> tuple[dict[str, Any], list[SettingError]]:
    """``({field: validated value}, [errors])`` for each field whose ``<PREFIX><FIELD>`` is set.

    Lists are comma-separated, mappings are JSON objects; everything else is validated by the
    field's own type and constraints. Values of ``secret`` fields are never shown in an error.
    """
    values: dict[str, Any] = {}
    errors: list[SettingError] = []
    for name, field in model.model_fields.items():
        variable = f"{prefix}{name.upper()}"
        raw = os.environ.get(variable)
        if raw is None or name in skip:
            continue
        annotated = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
        adapter: TypeAdapter[Any] = TypeAdapter(annotated)
        try:
            values[name] = _validate(adapter, field.annotation, raw)
        except ValidationError as error:
            shown = "(hidden)" if name in secret else repr(raw)
            errors.append(SettingError(variable, shown, error.errors()[0]["msg"]))
    return values, errors


def _validate(adapter: TypeAdapter[Any], annotation: Any, raw: str) -> Any:
    origin = get_origin(annotation)
    if origin is list:
        return adapter.validate_python([item.strip() for item in raw.split(",") if item.strip()])
    if origin is dict:
        return adapter.validate_json(raw)
    return adapter.validate_python(raw.strip())
