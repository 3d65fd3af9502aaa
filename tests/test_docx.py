"""Word (.docx) reports: sections, presenters, whole lists, tables, paragraph citations, hostile files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest

from index.quotes.citations import Citation, format_citation
from index.store.embedded import load_store
from ingest.errors import ReportError
from ingest.readers import ReadOptions, read_report
from ingest.splitter import split_document

from tests.conftest import ingest_files


def word_report(path: Path, *, author: str = "Elira Hoxha") -> Path:
    """A small report as Word writes it: title, headings, a presenter line, lists and a table."""
    document = docx.Document()
    document.core_properties.author = author
    document.core_properties.title = "2008 Kukës Regional Committee Annual Report"
    document.add_heading("2008 Kukës Regional Committee Annual Report", 0)
    document.add_paragraph("This report summarises the committee's work in 2008.")
    document.add_heading("Shelter capacity in the north", 1)
    document.add_paragraph("Presenter: Ms. Ana Test, Tirana Shelter Network")
    document.add_paragraph("The shelter in Kukës hosted 42 women during the year.")
    document.add_paragraph("The committee agreed on three priorities:")
    for item in ("Train 40 police officers in victim identification.", "Open a hotline in Kukës.",
                 "Fund two social workers."):
        document.add_paragraph(item, style="List Number")
    document.add_heading("Members", 1)
    document.add_paragraph("Members attend quarterly.", style="List Bullet")
    document.add_paragraph("Minutes are public.", style="List Bullet")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Commune", "Members", "Meetings"], ["Kukës", "12", "4"], ["Has", "7", "3"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.save(path)
    return path


def outcome(path: Path) -> str:
    try:
        read_report(path, ReadOptions(timeout_s=60))
    except ReportError as exc:
        return exc.outcome
    return "ok"


def test_word_report_becomes_cited_passages(tmp_path: Path):
    passages = split_document(read_report(word_report(tmp_path / "committee-2008.docx")))
    got = [(p.paragraph, p.page, p.page_label, p.section, p.speaker, p.organisation, p.text) for p in passages]
    title = "2008 Kukës Regional Committee Annual Report"
    shelter = "Shelter capacity in the north"
    assert got == [
        (1, None, None, title, "Elira Hoxha", None, title),
        (2, None, None, title, "Elira Hoxha", None, "This report summarises the committee's work in 2008."),
        (3, None, None, shelter, "Ms. Ana Test", "Tirana Shelter Network",
         "Shelter capacity in the north\nPresenter: Ms. Ana Test, Tirana Shelter Network"),
        (5, None, None, shelter, "Ms. Ana Test", "Tirana Shelter Network",
         "The shelter in Kukës hosted 42 women during the year."),
        (6, None, None, shelter, "Ms. Ana Test", "Tirana Shelter Network",
         "The committee agreed on three priorities:\n1. Train 40 police officers in victim identification.\n"
         "2. Open a hotline in Kukës.\n3. Fund two social workers."),
        (10, None, None, "Members", "Elira Hoxha", None, "Members"),
        (11, None, None, "Members", "Elira Hoxha", None, "Members attend quarterly.\nMinutes are public."),
        (13, None, None, "Members", "Elira Hoxha", None,
         "Table (Commune | Members | Meetings):\n1. Commune: Kukës; Members: 12; Meetings: 4\n"
         "2. Commune: Has; Members: 7; Meetings: 3"),
    ]
    assert {p.id for p in passages} >= {"committee-2008.docx:para5:1", "committee-2008.docx:para13:1"}


def test_citation_names_section_and_paragraph_never_a_page(tmp_path: Path):
    passages = split_document(read_report(word_report(tmp_path / "committee-2008.docx")))
    hosted = next(p for p in passages if "42 women" in p.text)
    assert format_citation(Citation.of(hosted)) == (
        "“The shelter in Kukës hosted 42 women during the year.” — 2008 Kukës Regional Committee Annual Report, "
        "para. 5, by Ms. Ana Test (Tirana Shelter Network), “Shelter capacity in the north”")


def test_a_short_title_paragraph_heads_the_paragraphs_after_it(tmp_path: Path):
    """A name over a testimony, as its own Word paragraph: it heads the paragraph after it on a
    line of its own (it had been joined to it with a space) and is the subsection of the rest."""
    document = docx.Document()
    document.add_heading("D. Survivor Testimonials", 1)
    for text in ("Ronny Marty", "In 2009 I heard from friends about a recruiter.", "Then I ran away.",
                 "James Dold", "I grew up in Nevada."):
        document.add_paragraph(text)
    document.save(tmp_path / "testimonies.docx")
    passages = split_document(read_report(tmp_path / "testimonies.docx"))
    assert [(p.text, p.subsection, p.paragraph) for p in passages if p.kind != "title"] == [
        ("Ronny Marty\nIn 2009 I heard from friends about a recruiter.", "Ronny Marty", 2),
        ("Then I ran away.", "Ronny Marty", 4),
        ("James Dold\nI grew up in Nevada.", "James Dold", 5),
    ]


def test_short_word_paragraphs_that_head_nothing_are_kept(tmp_path: Path):
    """A short Word paragraph with no full stop is text unless it is a title over a paragraph."""
    document = docx.Document()
    document.add_heading("Members", 1)
    for text in ("Contact the shelter office in Tirana", "Kukës", "Action plan for the coming year",
                 "Thank you"):
        document.add_paragraph(text)
    document.add_heading("Signatures", 1)
    for text in ("The committee met in Kukës in March 2009", "It agreed on three priorities.", "Ana Test"):
        document.add_paragraph(text)
    document.save(tmp_path / "short.docx")
    passages = [p for p in split_document(read_report(tmp_path / "short.docx")) if p.kind != "title"]
    assert [(p.text, p.part, p.subsection) for p in passages] == [
        ("Contact the shelter office in Tirana Kukës Action plan for the coming year Thank you", None, None),
        ("The committee met in Kukës in March 2009 It agreed on three priorities.", None, None),
        ("Ana Test", None, None),
    ]


def test_placeholder_author_is_no_speaker(tmp_path: Path):
    passages = split_document(read_report(word_report(tmp_path / "r.docx", author="Microsoft Office User")))
    assert {p.speaker for p in passages if p.section == "Members"} == {None}


def test_word_report_is_ingested_and_stored(tmp_path: Path):
    summary = ingest_files(tmp_path / "store", [word_report(tmp_path / "committee-2008.docx")])
    assert [o.outcome for o in summary.outcomes] == ["ok"]
    store = load_store(tmp_path / "store")
    assert [(r.report, r.kind, r.year) for r in store.manifest.reports] == [("committee-2008.docx", "docx", 2008)]
    assert all(p.page is None and p.paragraph for p in store.passages)


# ------------------------------------------------------------------ hostile files

def _zip(path: Path, parts: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _bomb(tmp_path: Path) -> Path:
    parts = _parts_of(word_report(tmp_path / "base.docx"))
    parts["word/media/padding.xml"] = b"<a>" + b" " * (400 << 20) + b"</a>"  # 400 MB of spaces, ~400 KB zipped
    return _zip(tmp_path / "bomb.docx", parts)


def _huge_xml(tmp_path: Path) -> Path:
    parts = _parts_of(word_report(tmp_path / "base.docx"))
    body = parts["word/document.xml"]
    paragraph = b"<w:p><w:r><w:t>x</w:t></w:r></w:p>"
    parts["word/document.xml"] = body.replace(b"<w:body>", b"<w:body>" + paragraph * 4_000_000, 1)
    return _zip(tmp_path / "huge.docx", parts)


def _entities(tmp_path: Path) -> Path:
    parts = _parts_of(word_report(tmp_path / "base.docx"))
    body = parts["word/document.xml"]
    declaration = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                   b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
                   b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>\n')
    parts["word/document.xml"] = declaration + body.split(b"?>", 1)[1].lstrip()
    return _zip(tmp_path / "entities.docx", parts)


def _external(tmp_path: Path) -> Path:
    """A template, an image and a sub-document all pointing outside the file (never fetched)."""
    parts = _parts_of(word_report(tmp_path / "base.docx"))
    rels = parts["word/_rels/document.xml.rels"]
    extra = (b'<Relationship Id="rIdX1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships/attachedTemplate" Target="http://203.0.113.7/template.dotm" TargetMode="External"/>'
             b'<Relationship Id="rIdX2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships/image" Target="file:///etc/passwd" TargetMode="External"/>'
             b'<Relationship Id="rIdX3" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
             b'relationships/subDocument" Target="\\\\203.0.113.7\\share\\x.docx" TargetMode="External"/>')
    parts["word/_rels/document.xml.rels"] = rels.replace(b"</Relationships>", extra + b"</Relationships>")
    return _zip(tmp_path / "external.docx", parts)


def _not_word(tmp_path: Path) -> Path:
    return _zip(tmp_path / "photos.docx", {"a.txt": b"hello"})


def _truncated(tmp_path: Path) -> Path:
    data = word_report(tmp_path / "base.docx").read_bytes()
    (tmp_path / "cut.docx").write_bytes(data[: len(data) // 2])
    return tmp_path / "cut.docx"


def _old_doc(tmp_path: Path) -> Path:
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 2048)
    return tmp_path / "old.doc"


def _encrypted(tmp_path: Path) -> Path:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 512
    (tmp_path / "locked.docx").write_bytes(data)
    return tmp_path / "locked.docx"


@pytest.mark.parametrize(
    "make, expected",
    [(_bomb, "too large"), (_huge_xml, "too large"), (_entities, "corrupt"), (_external, "ok"),
     (_not_word, "unsupported type"), (_truncated, "corrupt"), (_old_doc, "unsupported type"),
     (_encrypted, "needs password")],
    ids=["zip-bomb", "huge-xml", "xml-entities", "external-references", "zip-not-word", "truncated",
         "old-doc", "password-protected"],
)
def test_hostile_word_files_get_a_clear_outcome(tmp_path: Path, make, expected):
    assert outcome(make(tmp_path)) == expected


def test_external_references_are_never_followed(tmp_path: Path):
    passages = split_document(read_report(_external(tmp_path)))
    assert not any("root:" in p.text for p in passages)
    assert any("42 women" in p.text for p in passages)


def test_hostile_word_file_message_names_file_and_fix(tmp_path: Path):
    with pytest.raises(ReportError) as caught:
        read_report(_old_doc(tmp_path))
    assert str(caught.value) == ("old.doc: unsupported type (an old Word .doc (or another OLE file)). "
                                 "Fix: save it as .docx or PDF in Word or LibreOffice and add that.")
