"""Write a long, table-heavy test PDF and questions about its figures, with gold pages.

    python scripts/make_table_pdf.py            # tests/data/tables/synthetic-statistical-annex.pdf
                                                # + tests/data/tables_questions.jsonl

The figures are SYNTHETIC (seeded random numbers, said so on every page): the file exists to
measure whether a question about one figure finds the page and row it is printed on. It is
written with a few lines of PDF operators (Helvetica, one of the standard fonts every reader
has), so no PDF library is needed and the file is byte-for-byte reproducible.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PDF = ROOT / "tests" / "data" / "tables" / "synthetic-statistical-annex.pdf"
QUESTIONS = ROOT / "tests" / "data" / "tables_questions.jsonl"
SEED = 2024
YEARS = (2019, 2020, 2021, 2022)
FORMS = ("forced labour", "sexual exploitation", "forced begging", "forced marriage", "domestic servitude",
         "forced criminality", "organ removal", "mixed forms")
REGIONS = {
    "East Africa": ("Burundi", "Djibouti", "Eritrea", "Ethiopia", "Kenya", "Rwanda", "Somalia", "Uganda",
                    "South Sudan", "United Republic of Tanzania"),
    "West Africa": ("Benin", "Burkina Faso", "Cabo Verde", "Gambia", "Ghana", "Guinea", "Liberia", "Mali",
                    "Niger", "Nigeria", "Senegal", "Sierra Leone", "Togo"),
    "Southern Africa": ("Angola", "Botswana", "Eswatini", "Lesotho", "Malawi", "Mozambique", "Namibia",
                        "South Africa", "Zambia", "Zimbabwe"),
    "North Africa": ("Algeria", "Egypt", "Libya", "Morocco", "Sudan", "Tunisia"),
    "Western Balkans": ("Albania", "Bosnia and Herzegovina", "Kosovo", "Montenegro", "North Macedonia", "Serbia"),
}
QUESTIONS_PER_TABLE = 1
PAGE_W, PAGE_H = 595, 842


def fmt(n: int) -> str:
    return f"{n:,}"


def build(rng: random.Random):
    """Pages (lists of (x, y, size, text)) and questions with their gold page."""
    pages, questions = [], []
    table_no = 0
    for form in FORMS:
        for region, countries in REGIONS.items():
            table_no += 1
            page = len(pages) + 1
            caption = f"Table {table_no}. Detected victims of trafficking for {form}, {region}, by country, 2019-2022"
            items = [(50, 800, 9, "Statistical annex (SYNTHETIC figures for software testing) - page " + str(page)),
                     (50, 770, 12, caption)]
            items.append((50, 740, 9, f"Victims detected by national authorities in {region} whose form of "
                                      f"exploitation was {form}. Change is 2022 against 2019."))
            header = [(50, "Country"), (250, "2019"), (310, "2020"), (370, "2021"), (430, "2022"), (490, "Change")]
            y = 710
            items += [(x, y, 10, t) for x, t in header]
            for country in countries:
                y -= 18
                values = [rng.randint(3, 4000) for _ in YEARS]
                change = round(100 * (values[-1] - values[0]) / values[0])
                cells = [(50, country)] + [(x, fmt(v)) for x, v in zip((250, 310, 370, 430), values)] \
                    + [(490, f"{change:+d}%")]
                items += [(x, y, 10, t) for x, t in cells]
                for n, (year, value) in enumerate(zip(YEARS, values), start=1):
                    row_to_value = " ".join([country] + [fmt(v) for v in values[:n]])
                    questions.append(dict(country=country, year=year, value=value, form=form, region=region,
                                          page=page, table=table_no, evidence=row_to_value))
            items.append((50, y - 30, 8, f"Source: synthetic data generated for testing (seed {SEED}), not UNODC data."))
            pages.append(items)
    chosen = rng.sample(questions, 40)
    out = []
    for i, q in enumerate(chosen, start=1):
        phrasing = (f"How many victims of trafficking for {q['form']} were detected in {q['country']} in {q['year']}?"
                    if i % 2 else
                    f"In {q['year']}, what number of {q['form']} victims did {q['country']} detect?")
        out.append({"id": f"tb{i:02d}", "kind": "table", "q": phrasing, "report": "synthetic-statistical-annex",
                    "pages": [q["page"]], "evidence": [q["evidence"]]})
    return pages, out


def pdf_bytes(pages) -> bytes:
    """A minimal PDF: one content stream per page, Helvetica from the standard fonts."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"",
                            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"]
    kids = []
    for items in pages:
        stream = "".join(f"BT /F1 {size} Tf {x} {y} Td ({_escape(text)}) Tj ET\n" for x, y, size, text in items)
        data = stream.encode("cp1252")
        objects.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"endstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                       f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content} 0 R >>".encode())
        kids.append(len(objects))
    objects[1] = (f"<< /Type /Pages /Count {len(kids)} /Kids [" + " ".join(f"{k} 0 R" for k in kids) + "] >>").encode()
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def main() -> None:
    pages, questions = build(random.Random(SEED))
    PDF.parent.mkdir(parents=True, exist_ok=True)
    PDF.write_bytes(pdf_bytes(pages))
    QUESTIONS.write_text("".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8")
    print(f"{PDF.relative_to(ROOT)}: {len(pages)} pages; {QUESTIONS.relative_to(ROOT)}: {len(questions)} questions")


if __name__ == "__main__":
    main()
