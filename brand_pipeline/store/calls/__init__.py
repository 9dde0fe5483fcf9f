"""The store operations that run as SQL functions of the migrations, written once for both stores.

Each part (ads, scraping, analyses, personas, lineage, checks, reporting) calls ``bp_*`` functions
through three primitives its store's transport provides (``FunctionCalls``): PostgresStore runs
them with SELECT over its pool, SupabaseStore through PostgREST's ``/rpc``.
"""
