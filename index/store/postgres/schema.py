"""The tables of the PostgreSQL backend, all in the PostgreSQL schema `caaht`.

    store_meta   one row: schema version, model, vector dimensions, splitter version, and the
                 corpus statistics BM25 needs (passage count, total length), kept by the writer
    reports      one row per report (what the embedded manifest lists)
    sources      the report files as ingested (bytea), for rebuilds and provenance
    passages     one row per passage: citation and filter fields, the whole record (jsonb), text,
                 vector(384), the multilingual vector, and a generated tsvector of the
                 accent-folded text with its length
    sentences    (passage, start, stop, vector) of every sentence, for the sentence signal, quote
                 selection and the "answered" decision

Vectors are unit length, so HNSW indexes use inner product (`vector_ip_ops`). The tsvector has a
GIN index; the filter columns have B-tree indexes.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA = "caaht"
SCHEMA_VERSION = 1
TEXT_SEARCH_CONFIG = "english"  # Snowball English stemmer, the same algorithm as the bm25s side
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64


@dataclass(frozen=True)
class Layout:
    """What the vectors in the database were made with. A mismatch means a rebuild."""

    model: str
    dimension: int
    splitter_version: int
    multilingual_model: str | None = None
    multilingual_dimension: int = 0


# English passages are stemmed (Snowball English); Albanian ones only folded, as the bm25s side
# does not stem them with an English stemmer either.
_CONFIG = f"(CASE WHEN language = 'sq' THEN 'simple'::regconfig ELSE '{TEXT_SEARCH_CONFIG}'::regconfig END)"

EXTENSION_FIX = ("ask the database administrator to install pgvector (0.8 or later) and run "
                 "`CREATE EXTENSION vector;` in this database")


def create_statements(layout: Layout) -> list[str]:
    """DDL for an empty store with `layout`'s vector dimensions."""
    dim, mdim = int(layout.dimension), int(layout.multilingual_dimension)
    multilingual = f"multilingual vector({mdim})," if layout.multilingual_model else ""
    statements = [
        f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}",
        # Token count of a tsvector (BM25's document length); IMMUTABLE so a generated column can use it.
        f"""CREATE OR REPLACE FUNCTION {SCHEMA}.doc_length(tsvector) RETURNS integer
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS
            $$ SELECT coalesce(sum(coalesce(array_length(positions, 1), 1)), 0)::integer FROM unnest($1) $$""",
        f"""CREATE TABLE {SCHEMA}.store_meta (
            id integer PRIMARY KEY CHECK (id = 1),
            schema_version integer NOT NULL,
            model text NOT NULL, dimension integer NOT NULL, splitter_version integer NOT NULL,
            multilingual_model text, multilingual_dimension integer NOT NULL DEFAULT 0,
            passage_count bigint NOT NULL DEFAULT 0, total_length bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE {SCHEMA}.reports (
            report text PRIMARY KEY, title text NOT NULL, year integer, sha256 text NOT NULL,
            kind text NOT NULL, pages integer NOT NULL, passages integer NOT NULL,
            ingested_at text NOT NULL, source_file text NOT NULL,
            record jsonb NOT NULL,
            added bigserial)""",
        f"CREATE TABLE {SCHEMA}.sources (sha256 text PRIMARY KEY, data bytea NOT NULL)",
        f"""CREATE TABLE {SCHEMA}.passages (
            row_id bigint PRIMARY KEY,
            id text NOT NULL UNIQUE,
            report text NOT NULL REFERENCES {SCHEMA}.reports (report) ON DELETE CASCADE,
            ord integer NOT NULL,
            title text NOT NULL, year integer, text text NOT NULL,
            page integer, page_end integer, page_label text, page_end_label text,
            section text, speaker text, organisation text, part text,
            language text NOT NULL DEFAULT 'en',
            record jsonb NOT NULL,
            search_text text NOT NULL,
            embedding vector({dim}) NOT NULL,
            {multilingual}
            lexemes tsvector GENERATED ALWAYS AS (to_tsvector({_CONFIG}, search_text)) STORED,
            doc_length integer GENERATED ALWAYS AS ({SCHEMA}.doc_length(to_tsvector({_CONFIG}, search_text))) STORED)""",
        f"CREATE SEQUENCE {SCHEMA}.passage_rows OWNED BY {SCHEMA}.passages.row_id",
        f"""CREATE TABLE {SCHEMA}.sentences (
            passage bigint NOT NULL REFERENCES {SCHEMA}.passages (row_id) ON DELETE CASCADE,
            start integer NOT NULL, stop integer NOT NULL,
            embedding vector({dim}) NOT NULL,
            PRIMARY KEY (passage, start))""",
        *index_statements(layout),
    ]
    return statements


def index_statements(layout: Layout) -> list[str]:
    hnsw = f"USING hnsw (embedding vector_ip_ops) WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
    statements = [
        f"CREATE INDEX IF NOT EXISTS passages_embedding ON {SCHEMA}.passages {hnsw}",
        f"CREATE INDEX IF NOT EXISTS sentences_embedding ON {SCHEMA}.sentences {hnsw}",
        f"CREATE INDEX IF NOT EXISTS passages_lexemes ON {SCHEMA}.passages USING gin (lexemes)",
        f"CREATE INDEX IF NOT EXISTS passages_report ON {SCHEMA}.passages (report)",
        f"CREATE INDEX IF NOT EXISTS passages_year ON {SCHEMA}.passages (year)",
        f"CREATE INDEX IF NOT EXISTS passages_section ON {SCHEMA}.passages (lower(section))",
        f"CREATE INDEX IF NOT EXISTS passages_organisation ON {SCHEMA}.passages (lower(organisation))",
    ]
    if layout.multilingual_model:
        statements.insert(1, f"CREATE INDEX IF NOT EXISTS passages_multilingual ON {SCHEMA}.passages "
                             f"{hnsw.replace('(embedding', '(multilingual')}")
    return statements


def hnsw_index_names(layout: Layout) -> list[str]:
    return ["passages_embedding", "sentences_embedding"] + (["passages_multilingual"] if layout.multilingual_model else [])


DROP_STATEMENTS = [f"DROP TABLE IF EXISTS {SCHEMA}.{table} CASCADE"
                   for table in ("sentences", "passages", "sources", "reports", "store_meta")]


def read_layout(conn) -> Layout | None:
    """The layout recorded in the database, or None when no store has been created there."""
    row = conn.execute(
        "SELECT to_regclass(%s) IS NOT NULL", (f"{SCHEMA}.store_meta",)).fetchone()
    if not row[0]:
        return None
    meta = conn.execute(f"SELECT schema_version, model, dimension, splitter_version, multilingual_model, "
                        f"multilingual_dimension FROM {SCHEMA}.store_meta WHERE id = 1").fetchone()
    if meta is None:
        return None
    if meta[0] != SCHEMA_VERSION:
        from index.errors import StoreMismatch
        raise StoreMismatch(SCHEMA, f"database schema version {meta[0]}, this code reads {SCHEMA_VERSION}")
    return Layout(model=meta[1], dimension=meta[2], splitter_version=meta[3], multilingual_model=meta[4],
                  multilingual_dimension=meta[5])


def create_store(conn, layout: Layout) -> None:
    """Drop whatever store is there and create an empty one with `layout`. Caller holds the lock."""
    ensure_extension(conn)
    for statement in DROP_STATEMENTS + create_statements(layout):
        conn.execute(statement)
    conn.execute(f"INSERT INTO {SCHEMA}.store_meta (id, schema_version, model, dimension, splitter_version, "
                 f"multilingual_model, multilingual_dimension) VALUES (1, %s, %s, %s, %s, %s, %s)",
                 (SCHEMA_VERSION, layout.model, layout.dimension, layout.splitter_version,
                  layout.multilingual_model, layout.multilingual_dimension))


def ensure_extension(conn) -> None:
    """pgvector must be installed; create it when we are allowed to, else say who must."""
    import psycopg

    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
        return
    try:
        with conn.transaction():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except psycopg.Error as exc:
        from index.store.postgres.connection import DatabaseUnavailable
        raise DatabaseUnavailable(conn.info.dsn, f"pgvector is not available ({str(exc).strip()})",
                                  fix=EXTENSION_FIX) from exc
