"""What PostgREST keeps in its schema cache, read from the catalog on every request.

Real PostgREST caches the schema and needs a reload after DDL (Supabase reloads it by an event
trigger); reading the catalog each time gives the same answers without the reload step.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql

from .errors import PostgrestError, table_not_found
from .query import ident


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type() text, e.g. "text[]" or "timestamp with time zone"
    default: str | None  # the default expression's SQL text, None if there is none


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: dict[str, Column]
    primary_key: tuple[str, ...]

    @property
    def identifier(self) -> sql.Identifier:
        return ident(self.schema, self.name)


_COLUMNS = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), pg_get_expr(d.adbin, d.adrelid),
       a.attidentity <> '' AS is_identity, a.attgenerated <> '' AS is_generated,
       coalesce(a.attnum = ANY (i.indkey), false) AS in_pk
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
ORDER BY a.attnum
"""


def load_table(conn: psycopg.Connection, schema: str, name: str) -> Table:
    rows = conn.execute(_COLUMNS, (schema, name)).fetchall()
    if not rows:
        raise table_not_found(schema, name)
    columns = {}
    for column, type_text, default, is_identity, is_generated, _ in rows:
        if is_identity:  # identity columns draw from their own sequence; no pg_attrdef row
            default = (
                sql.SQL("nextval(pg_get_serial_sequence({}, {}))")
                .format(sql.Literal(sql.Identifier(schema, name).as_string(conn)), sql.Literal(column))
                .as_string(conn)
            )
        columns[column] = Column(column, type_text, None if is_generated else default)
    return Table(schema, name, columns, tuple(row[0] for row in rows if row[5]))


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    inputs: tuple[tuple[str, str], ...]  # (name, type) of the named input arguments
    required: frozenset[str]
    returns_set: bool
    returns_rows: bool  # composite / record / TABLE: rows with columns, not bare values
    returns_void: bool

    @property
    def identifier(self) -> sql.Identifier:
        return ident(self.schema, self.name)


_FUNCTIONS = """
SELECT p.proargnames, p.proargmodes, p.pronargs, p.pronargdefaults, p.proretset,
       array(SELECT format_type(t, NULL) FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS u(t, k) ORDER BY k),
       rt.typtype IN ('c') OR p.prorettype = 'record'::regtype, p.prorettype = 'void'::regtype
FROM pg_proc p
JOIN pg_namespace n ON n.oid = p.pronamespace
JOIN pg_type rt ON rt.oid = p.prorettype
WHERE n.nspname = %s AND p.proname = %s AND p.prokind = 'f'
"""


def _function_from_row(schema: str, name: str, row: tuple) -> Function:
    names, modes, n_inputs, n_defaults, returns_set, input_types, returns_rows, returns_void = row
    names = list(names or [])
    modes = list(modes or ["i"] * len(names))
    input_names = [n for n, mode in zip(names, modes, strict=False) if mode in ("i", "b", "v")]
    inputs = tuple(zip(input_names, input_types, strict=False))
    required = frozenset(input_names[: n_inputs - n_defaults])
    return Function(schema, name, inputs, required, returns_set, returns_rows, returns_void)


def list_functions(conn: psycopg.Connection, schema: str, name: str) -> list[Function]:
    """Every overload of ``schema.name``."""
    return [_function_from_row(schema, name, row) for row in conn.execute(_FUNCTIONS, (schema, name))]


def choose_function(candidates: list[Function], schema: str, name: str, argument_names: set[str]) -> Function:
    """The overload whose named arguments fit ``argument_names`` (PGRST202 if none, PGRST203 if many)."""
    fitting = [f for f in candidates if argument_names <= {n for n, _ in f.inputs} and f.required <= argument_names]
    if len(fitting) == 1:
        return fitting[0]
    arguments = ", ".join(sorted(argument_names))
    if not fitting:
        shown = f"({arguments})" if arguments else " without parameters"
        raise PostgrestError(
            404,
            "PGRST202",
            f"Could not find the function {schema}.{name}{shown} in the schema cache",
            details=f"Searched for the function {schema}.{name}"
            + (f" with parameters {arguments}" if arguments else " without parameters")
            + ", but no matches were found in the schema cache.",
        )
    raise PostgrestError(
        300, "PGRST203", f"Could not choose the best candidate function between: {schema}.{name} ({len(fitting)})"
    )
