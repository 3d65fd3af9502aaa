"""The PostgreSQL side of `python -m index`: `stats` on a database, and `export-to-postgres`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TextIO

from index.store.postgres.connection import connect, redact
from index.store.postgres.schema import SCHEMA, read_layout
from index.store.postgres.writer import read_reports

DATABASE_URL_HELP = ("PostgreSQL database to use instead of the embedded store, e.g. "
                     "postgresql://caaht@db.example.org/caaht (default: $CAAHT_DATABASE_URL; unset: the embedded store)")


def run_stats(url: str, *, as_json: bool, out: TextIO) -> int:
    """Passages per report in the database, as `python -m index stats` prints them for a folder."""
    from index.errors import StoreMissing

    with connect(url, autocommit=True) as conn:
        layout = read_layout(conn)
        if layout is None:
            raise StoreMissing(redact(url))
        infos = read_reports(conn)
        counts = dict(conn.execute(f"SELECT report, count(*) FROM {SCHEMA}.passages GROUP BY report").fetchall())
    total = sum(counts.values())
    reports = [{"report": r.report, "passages": counts.get(r.report, 0)} for r in infos]
    if as_json:
        out.write(json.dumps({"passages": total, "reports": reports}, ensure_ascii=False) + "\n")
        return 0
    out.write(f"{total} passages in {len(reports)} report(s), PostgreSQL {redact(url)}, model {layout.model}\n")
    for info in infos:
        out.write(f"  {info.report}: {counts.get(info.report, 0)} passages, {info.pages} pages — "
                  f"{info.title} ({info.year or 'n.d.'}), sha256 {info.sha256[:12]}…, ingested {info.ingested_at}\n")
    return 0


def run_export(index_dir: Path, url: str | None, *, out: TextIO) -> int:
    """`python -m index export-to-postgres`: copy the embedded store at `index_dir` into `url`."""
    from index.store.postgres.export import export_to_postgres

    if not url:
        raise ValueError("export-to-postgres needs a database: pass --database-url or set $CAAHT_DATABASE_URL")
    outcomes = export_to_postgres(index_dir, url, log=out.write)
    tally: dict[str, int] = {}
    for outcome in outcomes.values():
        tally[outcome] = tally.get(outcome, 0) + 1
    summary = ", ".join(f"{n} {name}" for name, n in sorted(tally.items())) or "no reports"
    out.write(f"{len(outcomes)} report(s) from {index_dir} to {redact(url)}: {summary}.\n")
    return 0
