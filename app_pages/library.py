"""Library: the indexed reports, what was found in each, and adding, removing or re-indexing one."""

from __future__ import annotations

import time
from dataclasses import dataclass

import streamlit as st

from app_pages.common import (basket_summary, current_store, get_models, index_dir, indexed_reports,
                              load_session, model_loading, report_source, style_selector, workspace)
from index.quotes.library import NO_TEXT, OK, PARTLY, ReportFacts, page_list, report_facts
from index.store.backend import database_url
from ingest.pipeline import IngestRun, ProgressEvent
from ingest.readers import ReadOptions
from ingest.uploads import MAX_UPLOAD_MB, ingest_uploads

ALL = "all"
UPLOAD_POLL_SECONDS = 30.0  # after "Add to the index" with no file yet, keep looking this long
UPLOAD_POLL_INTERVAL = 0.5


@dataclass(frozen=True)
class Outcome:
    """What the last add, remove or re-index did, kept across the rerun that follows it."""

    ok: bool
    lines: tuple[str, ...]


def run_ingest(files=(), *, remove=(), names=None, reread=(), status=None):
    """An ingest with the app's loaded model, reporting each step into `status`."""
    models = get_models()
    if database_url():
        from ingest.postgres_run import PostgresIngestRun
        run = PostgresIngestRun(database_url(), embedder=models.embedder,
                                multilingual_factory=lambda: models.multilingual, log=_logger(status))
    else:
        run = IngestRun(index_dir(), embedder=models.embedder, multilingual_factory=lambda: models.multilingual,
                        log=_logger(status))
    return run.execute(list(files), remove=list(remove), names=names, reread=list(reread))


def _logger(status):
    return (lambda text: status.text(text.strip()) if text.strip() else None) if status else None


class UploadProgress:
    """An st.progress bar fed by the ingest's progress events: the file at hand, pages per
    second and the time left, as the run itself estimates them."""

    def __init__(self, status):
        self.status = status
        self.bar = st.progress(0.0, text="Starting…")

    def log(self, text: str) -> None:
        if text.strip():
            self.status.text(text.strip())

    def event(self, event: ProgressEvent) -> None:
        share = event.pages_done / event.pages_total if event.pages_total else 0.0
        rate = f" · {event.pages_per_s:.1f} pages/s" if event.pages_per_s else ""
        left = f" · about {event.seconds_left:.0f} s left" if event.seconds_left else ""
        where = f": {event.current_file}" if event.current_file else ""
        text = (f"File {min(event.files_done + 1, event.files_total)} of {event.files_total}{where} "
                f"({event.stage}){rate}{left}")
        self.bar.progress(min(max(share, 0.0), 1.0), text=text)

    def done(self) -> None:
        self.bar.progress(1.0, text="Done")


def upload_section() -> None:
    """Upload PDFs, Word files or text extracts; each gets the same per-file outcome as `python -m ingest`.

    Not an st.form: a press on "Add to the index" before the file has reached the server would
    be lost. Outside a form the press is remembered until the file has arrived.
    """
    st.subheader("Add reports")
    generation = st.session_state.setdefault("upload_generation", 0)
    files = st.file_uploader("PDF, Word (.docx) or text extract", type=["pdf", "docx", "txt"],
                             accept_multiple_files=True,
                             key=f"upload-{generation}")
    password = st.text_input("Password (only for encrypted PDFs)", type="password", key=f"password-{generation}")
    if st.button("Add to the index", type="primary"):
        st.session_state.add_requested = time.monotonic()
    requested = st.session_state.get("add_requested")
    if requested and files:
        del st.session_state.add_requested
        st.session_state.upload_generation += 1  # a fresh uploader and password box next time
        ingest_uploaded(files, password)
        st.rerun()
    elif requested:
        st.info("Waiting for a file: choose or drop one above. It is added as soon as it has uploaded.")
        if time.monotonic() - requested < UPLOAD_POLL_SECONDS:
            time.sleep(UPLOAD_POLL_INTERVAL)
            st.rerun()


def ingest_uploaded(files, password: str) -> None:
    too_big = [f.name for f in files if f.size > MAX_UPLOAD_MB * 1024 * 1024]
    if too_big:
        st.session_state.library_outcome = Outcome(False, (
            f"Too large (over {MAX_UPLOAD_MB} MB): {', '.join(too_big)}. "
            "Split the file or use `python -m ingest` on the command line.",))
        return
    uploads = [(f.name, f.getvalue()) for f in files]
    options = ReadOptions(passwords=(password,) if password else ())
    models = get_models()
    with st.status(f"Adding {len(uploads)} file(s)…", expanded=True) as status:
        progress = UploadProgress(status)
        summary = ingest_uploads(index_dir(), uploads, options=options, log=progress.log,
                                 progress=progress.event, embedder=models.embedder,
                                 multilingual_factory=lambda: models.multilingual)
        progress.done()
    st.session_state.library_outcome = Outcome(summary.ok, tuple(summary.render().splitlines()))


def remove_report(name: str) -> None:
    with st.status(f"Removing {name}…", expanded=True) as status:
        summary = run_ingest(remove=[name], status=status)
    st.session_state.library_outcome = Outcome(summary.ok, tuple(summary.render().splitlines()))


def reindex_report(fact: ReportFacts) -> None:
    """Read the kept copy of the report again and replace its passages, in one new generation."""
    name = fact.report
    with st.status(f"Re-indexing {name}…", expanded=True) as status:
        source = report_source(fact)
        if source is None:
            st.session_state.library_outcome = Outcome(False, (
                f"{name}: its kept copy is missing, so it cannot be read again; add the file anew.",))
            return
        summary = run_ingest([source], names=[name], reread=[name], status=status)
    st.session_state.library_outcome = Outcome(summary.ok, tuple(summary.render().splitlines()))


def show_outcome() -> None:
    outcome = st.session_state.get("library_outcome")
    if outcome is None:
        return
    if not outcome.ok:
        st.error("Some files could not be added; the index is unchanged for them.")
    with st.container(border=True, key="library-outcome"):
        for line in outcome.lines:
            st.text(line)


def report_table(store) -> None:
    facts = report_facts(indexed_reports(store), store.passages)
    reports = indexed_reports(store)
    years = sorted({r.year for r in reports if r.year})
    st.caption(f"{len(reports)} report{'' if len(reports) == 1 else 's'} · "
               f"year{'' if len(years) == 1 else 's'} {', '.join(map(str, years)) or 'unknown'} · "
               f"{sum(r.pages for r in reports):,} pages · {store.manifest.passage_count:,} passages")
    status = st.segmented_control("Show", [ALL, OK, PARTLY, NO_TEXT], default=ALL, key="library_status")
    shown = [f for f in facts if status in (None, ALL) or f.status == status]
    rows = [{"title": f.title, "year": f.year, "file": f.report, "pages": f.pages, "passages": f.passages,
             "pages without text": page_list(f.pages_without_text), "printed page labels": f.printed_labels,
             "sections": f.sections, "speakers": f.speakers, "OCR pages": page_list(f.ocr_pages),
             "indexed": f.ingested_at.replace("T", " ").rstrip("Z"), "sha256": f.sha_prefix, "status": f.status}
            for f in shown]
    st.dataframe(rows, hide_index=True, width="stretch", key="library_table")
    manage(facts)


def manage(facts) -> None:
    if not facts:
        return
    st.subheader("Remove or re-index a report")
    names = [f.report for f in facts]
    chosen = st.selectbox("Report", names, key="manage_report")
    fact = next(f for f in facts if f.report == chosen)
    reindex, remove = st.columns(2)
    if reindex.button("Re-index", key="reindex", icon=":material/refresh:",
                      help="Read the kept copy of the file again (e.g. after a program update)"):
        reindex_report(fact)
        st.rerun()
    with remove.popover("Remove…", icon=":material/delete:"):
        st.write(f"Remove **{_plain(fact.title)}** ({_plain(fact.report)}) from the index? Quotes saved from it "
                 "stay in your baskets, marked as stale.")
        if st.button("Yes, remove it", key="confirm-remove", type="primary"):
            remove_report(fact.report)
            st.rerun()


def _plain(text: str) -> str:
    from index.quotes.present import escape_markdown

    return escape_markdown(text)


def main() -> None:
    model_loading()
    style_selector()
    ws = workspace()
    if ws is not None:
        load_session(ws)
        basket_summary()
    st.set_page_config(layout="wide")  # the table has many columns
    st.header("Library")
    show_outcome()
    store = current_store()
    if store is not None:
        report_table(store)
    upload_section()


main()
