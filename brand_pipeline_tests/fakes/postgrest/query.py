"""PostgREST's query-string grammar, turned into SQL with psycopg.sql (identifiers quoted, values bound).

Covered: ``select`` (columns, ``*``, ``alias:col``, ``col::type``, ``col->key->>key``), horizontal
filters (``eq neq gt gte lt lte like ilike match imatch in is isdistinct cs cd ov sl sr nxl nxr adj``,
``fts plfts phfts wfts`` with an optional config, the ``(any)``/``(all)`` modifiers, ``not.``),
logic trees (``or=(...)``, ``and=(...)``, nested, negated), ``order``, ``limit``/``offset`` and the
``Range`` header. Values go to Postgres as parameters of unknown type, so Postgres coerces them to
the column's type exactly as it does for PostgREST (``22P02`` for text that is not an integer).
Not covered (a PGRST100 error says so): resource embedding, aggregates, spreads, embedded filters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from psycopg import sql

from .errors import PostgrestError, bad_query

RESERVED = {"select", "order", "limit", "offset", "columns", "on_conflict", "or", "and", "not.or", "not.and"}

_OPERATORS = {
    "eq": "=",
    "neq": "<>",
    "gt": ">",
    "gte": ">=",
    "lt": "<",
    "lte": "<=",
    "like": "LIKE",
    "ilike": "ILIKE",
    "match": "~",
    "imatch": "~*",
    "cs": "@>",
    "cd": "<@",
    "ov": "&&",
    "sl": "<<",
    "sr": ">>",
    "nxl": "&<",
    "nxr": "&>",
    "adj": "-|-",
    "isdistinct": "IS DISTINCT FROM",
}
_QUANTIFIABLE = {"eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "match", "imatch"}
_TEXT_SEARCH = {
    "fts": "to_tsquery", "plfts": "plainto_tsquery", "phfts": "phraseto_tsquery", "wfts": "websearch_to_tsquery",
}  # fmt: skip
# ``is.not_null`` is ``IS NOT NULL``: each value's SQL is the value itself, upper-cased.
_IS_VALUES = {
    value: "IS " + value.replace("_", " ").upper() for value in ("null", "not_null", "true", "false", "unknown")
}
_OPERATION = re.compile(r"^(?P<op>[a-z_]+)(?:\((?P<mod>[A-Za-z0-9_]+)\))?$")
_CAST = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\[\])?$")
_LOGIC = re.compile(r"^(?P<neg>not\.)?(?P<op>and|or)\((?P<body>.*)\)$", re.S)


def ident(*names: str) -> sql.Identifier:
    """A quoted identifier; ``%`` doubled because every query runs with bound parameters."""
    return sql.Identifier(*(name.replace("%", "%%") for name in names))


def trusted_sql(text: str) -> sql.SQL:
    """SQL text from the catalog (a type name, a default expression), with ``%`` escaped likewise."""
    return sql.SQL(text.replace("%", "%%"))


class Params:
    """Collects bound values under generated names, so SQL pieces compose in any order."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> sql.Placeholder:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return sql.Placeholder(name)


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside parentheses, braces and double quotes (backslash escapes in quotes)."""
    parts, current, depth, quoted, escaped = [], [], 0, False, False
    for char in text:
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif not quoted and char in "({":
            depth += 1
        elif not quoted and char in ")}":
            depth -= 1
        elif not quoted and depth == 0 and char == sep:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _take_field(text: str) -> tuple[str, str]:
    """Split ``field.rest`` where ``field`` may be double-quoted (and then contain dots)."""
    if text.startswith('"'):
        end = 1
        while end < len(text) and (text[end] != '"' or text[end - 1] == "\\"):
            end += 1
        field, rest = text[: end + 1], text[end + 1 :]
        return field, rest[1:] if rest.startswith(".") else rest
    field, _, rest = text.partition(".")
    return field, rest


@dataclass(frozen=True)
class Field:
    """A column, possibly followed by a JSON path (``data->a->>b``)."""

    column: str
    path: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> Field:
        pieces = re.split(r"(->>|->)", text.strip())
        column = unquote(pieces[0])
        if not column or (not text.startswith('"') and any(c in column for c in "()")):
            raise bad_query(
                f'"failed to parse field ({text})"', "embedding and aggregates are not supported by the fake"
            )
        path = tuple((pieces[i], unquote(pieces[i + 1])) for i in range(1, len(pieces) - 1, 2))
        return cls(column, path)

    @property
    def output_name(self) -> str:
        return self.path[-1][1] if self.path else self.column

    def expression(self, params: Params) -> sql.Composable:
        expr: sql.Composable = ident(self.column)
        for arrow, key in self.path:
            is_index = key.lstrip("-").isdigit()
            bound = sql.SQL("{}::{}").format(params.bind(key), sql.SQL("int" if is_index else "text"))
            expr = sql.SQL("({} {} {})").format(expr, sql.SQL(arrow), bound)
        return expr


def select_list(select: str | None, params: Params) -> sql.Composable:
    """The SQL select list for PostgREST's ``select=`` (default ``*``)."""
    items = [item.strip() for item in split_top(select or "*") if item.strip()]
    if not items:
        return sql.SQL("*")
    rendered = []
    for item in items:
        if item == "*":
            rendered.append(sql.SQL("*"))
            continue
        if item.startswith("...") or (not item.startswith('"') and "(" in item.split("::")[0]):
            raise bad_query(f"embedded resource or aggregate in select ({item})", "not supported by the fake")
        alias, sep, rest = item.partition(":")
        if not sep or rest.startswith(":"):  # no alias; a lone ':' pair is the cast marker
            alias, rest = "", item
        target, _, cast = rest.partition("::")
        field = Field.parse(target)
        expr = field.expression(params)
        if cast:
            if not _CAST.match(cast):
                raise bad_query(f"failed to parse cast ({cast})")
            expr = sql.SQL("CAST({} AS {})").format(expr, sql.SQL(cast))
        rendered.append(sql.SQL("{} AS {}").format(expr, ident(unquote(alias) or field.output_name)))
    return sql.SQL(", ").join(rendered)


def _operand_list(operand: str, where: str) -> list[str]:
    if not (operand.startswith("(") and operand.endswith(")")):
        raise bad_query(f'"failed to parse filter ({where})"', 'expecting "(" for a list of values')
    inner = operand[1:-1]
    return [unquote(item.strip()) for item in split_top(inner)] if inner.strip() else []


def condition(field_text: str, operation: str, params: Params, *, in_logic_tree: bool = False) -> sql.Composable:
    """One horizontal filter: ``field`` and ``[not.]op[(modifier)].operand``."""
    negated = operation.startswith("not.")
    if negated:
        operation = operation[4:]
    op_token, dot, operand = operation.partition(".")
    match = _OPERATION.match(op_token)
    if not dot or not match:
        raise bad_query(f'"failed to parse filter ({operation})"', "unknown operator or missing value")
    op, modifier = match["op"], match["mod"]
    if in_logic_tree and op not in ("in", "cs", "cd", "ov"):
        operand = unquote(operand)
    expr = Field.parse(field_text).expression(params)
    built = _operation_sql(expr, op, modifier, operand, params, f"{op_token}.{operand}")
    return sql.SQL("NOT ({})").format(built) if negated else built


def _operation_sql(
    expr: sql.Composable, op: str, modifier: str | None, operand: str, params: Params, where: str
) -> sql.Composable:
    if op == "is":
        if operand.lower() not in _IS_VALUES:
            raise bad_query(f'"failed to parse filter ({where})"', "is. takes null, not_null, true, false or unknown")
        return sql.SQL("{} {}").format(expr, sql.SQL(_IS_VALUES[operand.lower()]))
    if op == "in":
        values = _operand_list(operand, where)
        if not values:
            return sql.SQL("FALSE")
        return sql.SQL("{} IN ({})").format(expr, sql.SQL(", ").join(params.bind(v) for v in values))
    if op in _TEXT_SEARCH:
        function = sql.SQL(_TEXT_SEARCH[op])
        if modifier:
            query = sql.SQL("{}({}::regconfig, {})").format(function, params.bind(modifier), params.bind(operand))
        else:
            query = sql.SQL("{}({})").format(function, params.bind(operand))
        return sql.SQL("{} @@ {}").format(expr, query)
    if op not in _OPERATORS:
        raise bad_query(f'"failed to parse filter ({where})"', f"unknown operator {op}")
    if op in ("like", "ilike"):
        operand = operand.replace("*", "%")
    operator = sql.SQL(_OPERATORS[op])
    if modifier in ("any", "all"):
        if op not in _QUANTIFIABLE:
            raise bad_query(f'"failed to parse filter ({where})"', f"{op} takes no (any)/(all) modifier")
        quantifier = sql.SQL(modifier.upper())
        return sql.SQL("{} {} {}({})").format(expr, operator, quantifier, params.bind(operand))
    if modifier:
        raise bad_query(f'"failed to parse filter ({where})"', f"unknown modifier {modifier}")
    return sql.SQL("{} {} {}").format(expr, operator, params.bind(operand))


def logic_tree(operator: str, body: str, params: Params, *, negated: bool = False) -> sql.Composable:
    """``or=(a.eq.1,and(b.gt.2,c.is.null))`` and friends."""
    if not (body.startswith("(") and body.endswith(")")):
        raise bad_query(f'"failed to parse logic tree ({body})"', 'expecting "("')
    parts = []
    for item in split_top(body[1:-1]):
        item = item.strip()
        nested = _LOGIC.match(item)
        if nested:
            parts.append(logic_tree(nested["op"], f"({nested['body']})", params, negated=bool(nested["neg"])))
            continue
        field_text, operation = _take_field(item)
        parts.append(condition(field_text, operation, params, in_logic_tree=True))
    if not parts:
        raise bad_query(f'"failed to parse logic tree ({body})"', "empty logic tree")
    joined = sql.SQL(" OR " if operator == "or" else " AND ").join(parts)
    return sql.SQL("NOT ({})" if negated else "({})").format(joined)


def where_clause(query: Iterable[tuple[str, str]], params: Params) -> sql.Composable:
    """All filters of a request ANDed (``TRUE`` when there are none)."""
    conditions = filters(query, params)
    return sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("TRUE")


def filters(query: Iterable[tuple[str, str]], params: Params) -> list[sql.Composable]:
    """One SQL condition per filter parameter (reserved parameters such as ``select`` skipped)."""
    conditions: list[sql.Composable] = []
    for key, value in query:
        if key in RESERVED - {"or", "and", "not.or", "not.and"}:
            continue
        if key in ("or", "and", "not.or", "not.and"):
            conditions.append(logic_tree(key.removeprefix("not."), value, params, negated=key.startswith("not.")))
        elif "." in key and not key.startswith('"'):
            raise bad_query(f"filters on embedded resources are not supported by the fake ({key})")
        else:
            conditions.append(condition(key, value, params))
    return conditions


def order_clause(order: str | None, params: Params) -> sql.Composable:
    """``ORDER BY ...`` for ``order=a.desc.nullslast,b`` (empty when no order was asked)."""
    if not order:
        return sql.SQL("")
    terms = []
    for item in split_top(order):
        field_text, rest = _take_field(item.strip())
        words = [w for w in rest.split(".") if w]
        direction = [w for w in words if w in ("asc", "desc")]
        nulls = [w for w in words if w in ("nullsfirst", "nullslast")]
        if len(direction) + len(nulls) != len(words) or len(direction) > 1 or len(nulls) > 1:
            raise bad_query(f'"failed to parse order ({item})"', "expecting asc, desc, nullsfirst or nullslast")
        term = Field.parse(field_text).expression(params)
        if direction:
            term = sql.SQL("{} {}").format(term, sql.SQL(direction[0].upper()))
        if nulls:
            term = sql.SQL("{} {}").format(term, sql.SQL("NULLS FIRST" if nulls[0] == "nullsfirst" else "NULLS LAST"))
        terms.append(term)
    return sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(terms))


@dataclass(frozen=True)
class RowWindow:
    """Which rows of the result a read returns: ``offset`` and at most ``limit`` (None: all)."""

    offset: int
    limit: int | None

    def clause(self) -> sql.Composable:
        limit = sql.SQL("") if self.limit is None else sql.SQL(" LIMIT {}").format(sql.Literal(self.limit))
        return sql.SQL("{} OFFSET {}").format(limit, sql.Literal(self.offset))


def _int_param(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise bad_query(f'"failed to parse {name} ({value})"') from exc


def range_error(details: str) -> PostgrestError:
    return PostgrestError(416, "PGRST103", "Requested range not satisfiable", details=details)


def row_window(query: dict[str, str], range_header: str | None, max_rows: int | None) -> RowWindow:
    """Intersect the ``Range`` header with ``offset``/``limit``, then cap at the server's max rows."""
    start, end = 0, None
    if range_header:
        match = re.fullmatch(r"\s*(\d+)-(\d*)\s*", range_header)
        if match:
            start = int(match[1])
            end = int(match[2]) if match[2] else None
            if end is not None and end < start:
                raise range_error(
                    "The lower boundary must be lower than or equal to the upper boundary in the Range header."
                )
    offset, limit = _int_param("offset", query.get("offset")), _int_param("limit", query.get("limit"))
    if limit is not None and limit < 0:
        raise range_error("Limit should be greater than or equal to zero.")
    if offset is not None:
        start = max(start, offset)
    if limit is not None:
        end = start + limit - 1 if end is None else min(end, start + limit - 1)
    if max_rows is not None:
        end = start + max_rows - 1 if end is None else min(end, start + max_rows - 1)
    return RowWindow(start, None if end is None else max(0, end - start + 1))
