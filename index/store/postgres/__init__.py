"""The PostgreSQL + pgvector backend: the same reports, passages and vectors as the embedded store,
kept in an organisation's database server so that several app servers, replicas and backups work.

Selected by `$CAAHT_DATABASE_URL` or `--database-url` (see `index.store.backend`).

- `schema`   the tables (in the PostgreSQL schema `caaht`), indexes and the layout check
- `writer`   `PostgresWriter` (a `ReportWriter`): one transaction per report, an advisory lock
             for the one writer, idempotent by content hash
- `searcher` `PostgresSearcher`: hybrid search in one SQL statement, same `Answer`/`Hit` records
- `export`   `python -m index export-to-postgres`: move an embedded store into the database
"""

from __future__ import annotations

from index.store.postgres.connection import DatabaseUnavailable, connect, redact
from index.store.postgres.export import export_to_postgres
from index.store.postgres.searcher import PostgresSearcher, open_postgres_searcher
from index.store.postgres.writer import PostgresWriter, postgres_writer

__all__ = ["DatabaseUnavailable", "PostgresSearcher", "PostgresWriter", "connect", "export_to_postgres",
           "open_postgres_searcher", "postgres_writer", "redact"]
