"""A deterministic instance of a response schema: the JSON text the fake answers by default."""

from __future__ import annotations

from typing import Any

from .wire import JsonObject, get_field

# A string with a ``format`` must parse as that format, so it gets a fixed valid value.
_FORMATTED_STRINGS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "uri": "https://example.com/fake",
    "url": "https://example.com/fake",
    "email": "fake@example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "duration": "P1D",
}


class SchemaFiller:
    """Builds a deterministic instance of a response schema.

    Understands both dialects the API accepts: the OpenAPI subset of ``responseSchema``
    (types OBJECT/ARRAY/STRING/INTEGER/NUMBER/BOOLEAN, ``nullable``; google-genai 3.6.1
    dumps ``types.Schema`` by field name, so ``any_of``, ``min_items``, ``max_length``,
    ``property_ordering`` arrive in snake_case) and the JSON Schema of ``responseJsonSchema``
    (``$defs``/``$ref``, ``anyOf``, ``type: [..., "null"]``, ``additionalProperties``).

    Values: strings ``"<field> (fake)"`` (array items ``"<field> (fake N)"``), enums their
    first value, integers 1, numbers 0.5 (clamped to minimum/maximum), booleans true,
    arrays 2 items (clamped to minItems/maxItems). Arrays of strings named ``*ad_ids`` get
    ``citations`` (ids found in the prompt); a string field named ``*ad_id`` gets the first.
    """

    def __init__(self, root: JsonObject, citations: list[str]) -> None:
        self.root = root
        self.citations = citations

    def fill(self, schema: Any = None, name: str = "value", depth: int = 0) -> Any:
        if schema is None:
            schema = self.root
        if not isinstance(schema, dict) or depth > 32:
            return None
        schema = self._resolve(schema)
        if "const" in schema:
            return schema["const"]
        combined = self._combined(schema)
        if combined is not None:
            return self.fill(combined, name, depth + 1)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            non_null = [v for v in schema["enum"] if v is not None] or schema["enum"]
            return non_null[0]
        return self._by_type(schema, name, depth)

    # -- helpers

    def _combined(self, schema: JsonObject) -> JsonObject | None:
        """One schema for ``anyOf``/``oneOf`` (the first non-null branch) or ``allOf`` (all merged)."""
        for key in ("anyOf", "any_of", "oneOf"):
            if isinstance(schema.get(key), list) and schema[key]:
                branches = [self._resolve(b) for b in schema[key]]
                non_null = [b for b in branches if self._type(b) != "null"] or branches
                merged = {k: v for k, v in schema.items() if k != key}
                merged.update(non_null[0])
                return merged
        if isinstance(schema.get("allOf"), list) and schema["allOf"]:
            merged = {k: v for k, v in schema.items() if k != "allOf"}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return merged
        return None

    def _by_type(self, schema: JsonObject, name: str, depth: int) -> Any:
        kind = self._type(schema)
        if kind == "object":
            return self._object(schema, depth)
        if kind == "array":
            return self._array(schema, name, depth)
        if kind == "string":
            return self._string(schema, name)
        if kind == "integer":
            return int(self._clamp(schema, 1))
        if kind == "number":
            return float(self._clamp(schema, 0.5))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return f"{name} (fake)"

    def _resolve(self, schema: JsonObject) -> JsonObject:
        """Follows local ``$ref`` pointers ("#/$defs/X", "#/definitions/X"; ``types.Schema``
        dumps them as ``ref``/``defs``)."""
        seen = 0
        while isinstance(schema, dict) and isinstance(get_field(schema, "$ref", "ref"), str) and seen < 32:
            ref = get_field(schema, "$ref", "ref")
            target: Any = self.root
            for token in ref.lstrip("#").strip("/").split("/") if ref != "#" else []:
                token = token.replace("~1", "/").replace("~0", "~")
                if token == "$defs" and isinstance(target, dict) and token not in target:
                    token = "defs"
                target = target.get(token, {}) if isinstance(target, dict) else {}
            rest = {k: v for k, v in schema.items() if k not in ("$ref", "ref")}
            schema = {**target, **rest}
            seen += 1
        return schema

    @staticmethod
    def _type(schema: JsonObject) -> str | None:
        t = schema.get("type")
        if isinstance(t, list):
            non_null = [x for x in t if str(x).lower() != "null"] or t
            t = non_null[0] if non_null else None
        if isinstance(t, str):
            t = t.lower()
            return None if t == "type_unspecified" else t
        if "properties" in schema:
            return "object"
        if "items" in schema or "prefixItems" in schema:
            return "array"
        return None

    def _object(self, schema: JsonObject, depth: int) -> JsonObject:
        props = schema.get("properties") or {}
        order = get_field(schema, "propertyOrdering", "property_ordering") or []
        names = [n for n in order if n in props] + [n for n in props if n not in order]
        out = {n: self.fill(props[n], n, depth + 1) for n in names}
        extra = get_field(schema, "additionalProperties", "additional_properties")
        if not props and isinstance(extra, dict):
            out["key (fake)"] = self.fill(extra, "key", depth + 1)
        return out

    def _array(self, schema: JsonObject, name: str, depth: int) -> list[Any]:
        lo = get_field(schema, "minItems", "min_items")
        hi = get_field(schema, "maxItems", "max_items")
        lo = int(lo) if lo is not None else 0
        hi = int(hi) if hi is not None else None
        items = self._resolve(schema.get("items") or {})
        if name.endswith("ad_ids") and self._type(items) == "string" and not items.get("enum"):
            ids = list(self.citations)
            return ids[:hi] if hi is not None else ids
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return [self.fill(p, f"{name} {i + 1}", depth + 1) for i, p in enumerate(prefix)]
        count = max(2, lo)
        if hi is not None:
            count = min(count, hi)
        return [self._item(items, name, i, depth) for i in range(count)]

    def _item(self, items: JsonObject, name: str, i: int, depth: int) -> Any:
        value = self.fill(items, name, depth + 1)
        if value == f"{name} (fake)":
            return self._string(items, name, f"fake {i + 1}")
        return value

    def _string(self, schema: JsonObject, name: str, tag: str = "fake") -> str:
        if name.endswith("ad_id") and self.citations:
            return self.citations[0]
        fixed = _FORMATTED_STRINGS.get(schema.get("format"))
        if fixed is not None:
            return fixed
        text = f"{name} ({tag})"
        lo = get_field(schema, "minLength", "min_length")
        hi = get_field(schema, "maxLength", "max_length")
        if lo is not None and len(text) < int(lo):
            text = text + "x" * (int(lo) - len(text))
        if hi is not None and len(text) > int(hi):
            text = text[: int(hi)]
        return text

    @staticmethod
    def _clamp(schema: JsonObject, value: float) -> float:
        lo = schema.get("minimum", schema.get("exclusiveMinimum"))
        hi = schema.get("maximum", schema.get("exclusiveMaximum"))
        if lo is not None:
            lo = float(lo)
            if value < lo or ("exclusiveMinimum" in schema and value <= lo):
                value = lo if "exclusiveMinimum" not in schema else lo + 1
        if hi is not None:
            hi = float(hi)
            if value > hi or ("exclusiveMaximum" in schema and value >= hi):
                value = hi if "exclusiveMaximum" not in schema else hi - 1
        return value
