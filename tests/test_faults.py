"""Faults: a damaged store, a full or read-only disk, bad lines in a batch.

After each fault the store either still answers, or the message is one sentence whose `Fix:`
names a command; the test then runs that very command (parsed out of the message) and checks
that the store answers again with what it held. Fast tests use the hashing embedder and run
`python -m ingest`'s main() in-process; the end-to-end tests at the bottom run the real
commands as subprocesses on a store built with the real model.
"""

from __future__ import annotations

import builtins
import errno
import functools
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

import ingest.__main__ as ingest_cli
from index import batch
from index.embedder import HashingEmbedder
from index.errors import StoreError, StoreUnwritable
from index.retrieval.search import open_searcher
from index.store import disk
from index.store.embedded import current_generation, load_store
from index.store.verify import run_verify, verify_store
from ingest.pipeline import IngestRun
from ingest.readers import ReadOptions
from ingest.repair import RECOVERED_PREFIX, repair_store
from ingest.uploads import ingest_uploads

from tests.conftest import CORPUS_FILE, DATA, ROOT, TINY_REPORT, ingest_files

QUESTION = "How many flyers were distributed?"
ANSWER = "1,500 flyers"
BIG_PDF = DATA / "pdfs" / "GLOTIP2024_Chapter_2.pdf"
FIX = re.compile(r"Fix:.*?`([^`]+)`")


# ------------------------------------------------------------------------------------ helpers

@pytest.fixture
def store(tmp_path: Path, tiny_report: Path) -> Path:
    """Two generations (the extract; then the extract and the tiny report), two report copies."""
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    assert ingest_files(index_dir, [tiny_report]).ok
    return index_dir


@pytest.fixture(autouse=True)
def hashing_cli(monkeypatch):
    """`python -m ingest` in-process, with the hashing embedder instead of the packaged model."""
    fast = dict(embedder_factory=HashingEmbedder, multilingual_factory=lambda: None)
    monkeypatch.setattr(ingest_cli, "IngestRun", functools.partial(IngestRun, **fast))
    monkeypatch.setattr(ingest_cli, "repair_store", functools.partial(repair_store, **fast))


def ask(index_dir: Path):
    return open_searcher(index_dir, embedder=HashingEmbedder()).ask(QUESTION, k=1)


def held(index_dir: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What the store answers with: its report names and every passage text."""
    loaded = load_store(index_dir)
    return tuple(r.report for r in loaded.manifest.reports), tuple(p.text for p in loaded.passages)


def run_fix(message: str, **paths: Path) -> int:
    """Run the command a message's `Fix:` names, as a user would (report names that stand for
    a file the user must give are replaced by that file's path)."""
    match = FIX.search(message)
    assert match, f"no command in: {message}"
    words = shlex.split(match[1])
    assert words[:3] == ["python", "-m", "ingest"], words
    return ingest_cli.main([str(paths.get(w, w)) for w in words[3:]])


def message_after_fault(index_dir: Path) -> str:
    """What a user is told: `ask`'s error if it refuses, else what verify prints (it must see the fault)."""
    out = io.StringIO()
    assert run_verify(index_dir, out) == 1, out.getvalue()
    try:
        answer = ask(index_dir)
    except StoreError as exc:
        return str(exc)
    assert ANSWER in answer.hits[0].passage.text  # the store still answers, and correctly
    return verify_store(index_dir).message()


def assert_sentence(message: str) -> None:
    assert "Traceback" not in message and "\n" not in message.strip(), message
    assert FIX.search(message), message


def flip_bit(path: Path, offset: int | None = None) -> None:
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0x10
    path.write_bytes(bytes(data))


def store_files(index_dir: Path) -> list[str]:
    generation = index_dir / current_generation(index_dir)
    return sorted(str(p.relative_to(generation)) for p in generation.rglob("*") if p.is_file())


def in_generation(index_dir: Path, kind: str, generation: str | None = None) -> Path:
    """The file of this kind (`passages.jsonl`, `bm25/vocab.index.json`, …) in a generation,
    wherever the layout puts it (at the top, or in a per-report segment folder)."""
    folder = index_dir / (generation or current_generation(index_dir))
    found = sorted(p for p in folder.rglob(Path(kind).name) if p.is_file() and str(p).endswith(kind))
    assert found, f"no {kind} in {folder}"
    return found[-1]


# ------------------------------------------------------------------------------ damaged store

def test_a_sound_store_verifies(store: Path):
    out = io.StringIO()
    assert run_verify(store, out) == 0
    assert out.getvalue().splitlines()[-1] == "OK: every file matches its manifest."
    assert verify_store(store).message() is None


def generation_file_kinds() -> list[str]:
    """Every kind of file a generation holds (taken from a real one, so a new kind is covered):
    its name, with the folder only where it is a fixed one like bm25/ (not a segment's own)."""
    import tempfile
    with tempfile.TemporaryDirectory() as folder:
        assert ingest_files(Path(folder), [CORPUS_FILE]).ok
        names = store_files(Path(folder))
    kinds = {"/".join(Path(n).parts[-2:]) if Path(n).parent.name == "bm25" else Path(n).name for n in names}
    return sorted(kinds)


@pytest.mark.parametrize("name", generation_file_kinds())
def test_bit_flip_in_each_generation_file_is_found_and_repaired(store: Path, name: str):
    before = held(store)
    flip_bit(in_generation(store, name))
    message = message_after_fault(store)
    assert_sentence(message)
    assert run_fix(message) == 0
    assert verify_store(store).ok
    assert held(store) == before
    assert ANSWER in ask(store).hits[0].passage.text


@pytest.mark.parametrize("name", ["passages.jsonl", "sentence_vectors.npy", "manifest.json", "bm25/vocab.index.json"])
def test_truncated_file_is_found_and_repaired(store: Path, name: str):
    before = held(store)
    target = in_generation(store, name)
    target.write_bytes(target.read_bytes()[: target.stat().st_size // 2])
    message = message_after_fault(store)
    assert_sentence(message)
    assert run_fix(message) == 0
    assert held(store) == before and verify_store(store).ok


@pytest.mark.parametrize("content", [b'{"gener', b"", b'{"generation": "gen-000009-abcdef"}', b"\xff\xfe"],
                         ids=["torn", "empty", "names-nothing", "binary"])
def test_torn_current_is_repaired(store: Path, content: bytes):
    before = held(store)
    (store / "CURRENT").write_bytes(content)
    message = message_after_fault(store)
    assert_sentence(message)
    assert run_fix(message) == 0
    assert held(store) == before and verify_store(store).ok


def test_bit_flip_in_current_is_repaired(store: Path):
    before = held(store)
    flip_bit(store / "CURRENT", offset=5)
    message = message_after_fault(store)
    assert run_fix(message) == 0
    assert held(store) == before


def test_missing_current_generation_comes_back_from_the_kept_copy(store: Path):
    """The generation and its manifest are gone: the tiny report comes back from its kept copy,
    under the name kept beside it."""
    before = held(store)
    shutil.rmtree(store / current_generation(store))
    message = message_after_fault(store)
    assert_sentence(message)
    assert run_fix(message) == 0
    assert held(store) == before and verify_store(store).ok


def test_a_copy_without_its_name_comes_back_under_its_hash(store: Path, tiny_report: Path):
    """A store written before names were kept beside the copies: the report is not lost, only its name."""
    reports, texts = held(store)
    for about in (store / "sources").glob("*.json"):
        about.unlink()
    shutil.rmtree(store / current_generation(store))
    assert run_fix(message_after_fault(store)) == 0
    now_reports, now_texts = held(store)
    assert now_reports[0] == "caaht-2006-kukes-extract.txt" and now_reports[1].startswith(RECOVERED_PREFIX)
    assert sorted(now_texts) == sorted(texts) and verify_store(store).ok


def test_both_generations_damaged_rebuilds_from_the_kept_copies(store: Path):
    before = held(store)
    for generation in (p for p in store.iterdir() if p.name.startswith("gen-")):
        flip_bit(in_generation(store, "sentence_vectors.npy", generation.name))
    message = message_after_fault(store)
    assert run_fix(message) == 0
    assert held(store) == before and verify_store(store).ok


def test_repair_prints_the_lost_report_and_its_command(store: Path, tiny_report: Path, capsys):
    flip_bit(in_generation(store, "passages.jsonl"))
    copy = next(p for p in (store / "sources").iterdir() if p.read_bytes() == tiny_report.read_bytes())
    flip_bit(copy)
    assert ingest_cli.main(["--repair", "--index-dir", str(store)]) == 1
    printed = capsys.readouterr().out
    [line] = [l for l in printed.splitlines() if "tiny-2009.txt" in l and "Fix:" in l]
    assert run_fix(line, **{"tiny-2009.txt": tiny_report}) == 0
    assert "tiny-2009.txt" in held(store)[0] and verify_store(store).ok


class Killed(BaseException):
    """Stands for SIGKILL: nothing after it runs, no cleanup."""


@pytest.mark.parametrize("moment", ["before-going-back", "before-re-reading", "while-re-reading"])
def test_a_repair_killed_half_way_is_finished_by_the_next_run(store: Path, moment: str):
    import ingest.repair as repair

    before = held(store)
    shutil.rmtree(store / current_generation(store))
    target = {"before-going-back": "_carry_out", "before-re-reading": "_rebuild",
              "while-re-reading": "_restore_done"}[moment]
    with pytest.MonkeyPatch.context() as patch, pytest.raises(Killed):
        if target == "_restore_done":
            real_execute = IngestRun.execute
            patch.setattr(IngestRun, "execute", lambda self, *a, **k: (real_execute(self, *a, **k), _kill())[0])
        else:
            patch.setattr(repair, target, lambda *a, **k: _kill())
        ingest_cli.main(["--repair", "--index-dir", str(store)])
    assert (store / ".repair" / "plan.json").exists()
    assert ingest_cli.main(["--repair", "--index-dir", str(store)]) == 0
    assert held(store) == before and verify_store(store).ok and not (store / ".repair").exists()


def _kill():
    raise Killed()


def test_damaged_old_generation_is_removed_and_the_store_keeps_answering(store: Path):
    before = held(store)
    old = sorted(p for p in store.iterdir() if p.name.startswith("gen-"))[0]
    flip_bit(in_generation(store, "passages.jsonl", old.name))
    message = message_after_fault(store)
    assert run_fix(message) == 0
    assert not old.exists() and held(store) == before and verify_store(store).ok


def test_damaged_source_copy_asks_for_the_file_again(store: Path, tiny_report: Path):
    before = held(store)
    copy = next(p for p in (store / "sources").iterdir() if p.read_bytes() == tiny_report.read_bytes())
    flip_bit(copy)
    message = message_after_fault(store)   # the store answers; verify names the copy and the report
    assert "tiny-2009.txt" in message
    assert run_fix(message, **{"tiny-2009.txt": tiny_report}) == 0
    assert held(store) == before and verify_store(store).ok


def test_an_ordinary_ingest_repairs_first(store: Path, tmp_path: Path):
    """`python -m ingest FILE` on a damaged store mends it and then adds the file."""
    flip_bit(in_generation(store, "sentences.npy"))
    other = tmp_path / "other-2010.txt"
    other.write_text(TINY_REPORT.replace("2009", "2010").replace("42 women", "7 women"), encoding="utf-8")
    assert ingest_cli.main(["--index-dir", str(store), str(other)]) == 0
    assert held(store)[0] == ("caaht-2006-kukes-extract.txt", "tiny-2009.txt", "other-2010.txt")
    assert verify_store(store).ok


# ------------------------------------------------------------------------- full disk, no permission

class FailingWrites:
    """Opens for writing under `folder` are counted; the `fail_at`-th raises `error` (after
    creating the file, as a full disk does)."""

    def __init__(self, folder: Path, fail_at: int | None = None, error: int = errno.ENOSPC):
        self.folder, self.fail_at, self.error, self.count = str(folder.absolute()), fail_at, error, 0
        self._open = builtins.open

    def __call__(self, file, mode="r", *args, **kwargs):
        writing = isinstance(file, (str, os.PathLike)) and any(c in mode for c in "wax+")
        if writing and os.path.abspath(os.fspath(file)).startswith(self.folder):
            self.count += 1
            if self.count == self.fail_at:
                self._open(file, mode, *args, **kwargs).close()
                raise OSError(self.error, os.strerror(self.error), os.fspath(file))
        return self._open(file, mode, *args, **kwargs)


@contextmanager
def injected(writes: FailingWrites) -> Iterator[FailingWrites]:
    """Every open for writing goes through `writes` inside the block (and only there)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(builtins, "open", writes)
        patch.setattr(io, "open", writes)
        yield writes


def assert_untouched(index_dir: Path, generation: str, before) -> None:
    """The old store answers, and the failed ingest left nothing behind."""
    assert current_generation(index_dir) == generation and held(index_dir) == before
    assert [p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-")] == []
    assert [p.name for p in (index_dir / "sources").iterdir() if p.name.startswith(".tmp-")] == []
    verification = verify_store(index_dir)
    assert verification.ok and not [n for n in verification.notes if "belongs to no report" in n], \
        verification.render()


def test_enospc_at_each_write_of_a_publish(tmp_path: Path, tiny_report: Path):
    template = tmp_path / "template"
    assert ingest_files(template, [CORPUS_FILE]).ok
    counting = FailingWrites(tmp_path / "count")
    shutil.copytree(template, tmp_path / "count")
    with injected(counting):
        assert ingest_files(tmp_path / "count", [tiny_report]).ok
    writes = counting.count
    assert writes >= 8  # the report copy, each generation file, the manifest, CURRENT
    for fail_at in range(1, writes + 1):
        index_dir = tmp_path / f"fail-{fail_at}"
        shutil.copytree(template, index_dir)
        generation, before = current_generation(index_dir), held(index_dir)
        with injected(FailingWrites(index_dir, fail_at)), pytest.raises(StoreUnwritable) as info:
            ingest_files(index_dir, [tiny_report])
        message = str(info.value)
        assert f"there is not enough space to write the index in {index_dir.absolute()}: the disk filled up " \
               f"while writing (it needs about " in message
        assert " MB is free now that the unfinished write is removed" in message and "Fix: free at least" in message
        assert_untouched(index_dir, generation, before)
        # The fix: free space (the injection stops), then run the same ingest again.
        assert ingest_files(index_dir, [tiny_report]).ok, f"write {fail_at}"
        assert held(index_dir)[0] == ("caaht-2006-kukes-extract.txt", "tiny-2009.txt")


@pytest.mark.parametrize("code, words", [
    (errno.EACCES, "permission to write in"), (errno.EROFS, "is on a read-only disk"),
    (errno.ENOENT, "disappeared or is not a folder")], ids=["permission", "read-only", "missing-folder"])
def test_other_disk_errors_are_one_sentence(tmp_path: Path, tiny_report: Path, code, words):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    generation, before = current_generation(index_dir), held(index_dir)
    with injected(FailingWrites(index_dir, fail_at=3, error=code)), pytest.raises(StoreUnwritable) as info:
        ingest_files(index_dir, [tiny_report])
    assert words in str(info.value) and "nothing was changed" in str(info.value)
    assert_untouched(index_dir, generation, before)


def test_cli_names_the_command_to_run_again(tmp_path: Path, tiny_report: Path, monkeypatch, capsys):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    argv = ["--index-dir", str(index_dir), str(tiny_report)]
    monkeypatch.setattr(sys, "argv", ["ingest", *argv])
    with injected(FailingWrites(index_dir, fail_at=2)):
        assert ingest_cli.main(argv) == 1
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: there is not enough space") and "Traceback" not in line
    assert run_fix(line.replace("Fix: free", "Fix: (after freeing space)")) == 0
    assert "tiny-2009.txt" in held(index_dir)[0]


def test_check_before_writing_refuses_what_cannot_fit(tmp_path: Path, tiny_report: Path):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    generation, before = current_generation(index_dir), held(index_dir)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(
            StoreUnwritable, match=r"it needs about \d+\.\d MB \(with 1\.0 MB kept spare\) and only 0\.2 MB is free"):
        patch.setattr(disk, "free_bytes", lambda _folder: 200_000)
        ingest_files(index_dir, [tiny_report])
    assert_untouched(index_dir, generation, before)


def test_refused_at_publish_leaves_no_orphan_copy(tmp_path: Path, tiny_report: Path):
    """Room for the report copy, then none for the generation (the disk filled meanwhile):
    the copy saved for it is removed with the refusal."""
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    generation, before = current_generation(index_dir), held(index_dir)
    answers = iter([50 * 1024 * 1024])  # the first look (for the copy) finds room; later ones do not
    with pytest.MonkeyPatch.context() as patch, pytest.raises(StoreUnwritable, match="kept spare"):
        patch.setattr(disk, "free_bytes", lambda _folder: next(answers, 100_000))
        ingest_files(index_dir, [tiny_report])
    assert_untouched(index_dir, generation, before)


def test_upload_shows_the_same_sentence(tmp_path: Path):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    generation, before = current_generation(index_dir), held(index_dir)
    with injected(FailingWrites(index_dir, fail_at=4)):
        summary = ingest_uploads(index_dir, [("tiny-2009.txt", TINY_REPORT.encode())],
                                 embedder_factory=HashingEmbedder, multilingual_factory=lambda: None)
    assert not summary.ok and [o.line() for o in summary.outcomes] == ["tiny-2009.txt: failed — not added"]
    assert summary.note.startswith(f"there is not enough space to write the index in {index_dir.absolute()}")
    assert "press “Add to the index” again" in summary.note
    assert "Store: 63 passages from 1 report(s) (unchanged)." in summary.render()
    assert_untouched(index_dir, generation, before)


def mount_tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


@pytest.fixture
def small_disk(tmp_path: Path):
    folder = tmp_path / "disk"
    if not mount_tmpfs(folder, "4m"):
        pytest.skip("needs root and a working `mount -t tmpfs` (CI runs as root)")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)


def ingest_pdf(index_dir: Path, pdf: Path):
    """The hashing embedder and no OCR: the disk is what this is about, and OCR takes seconds a page."""
    run = IngestRun(index_dir, options=ReadOptions(ocr=False), embedder_factory=HashingEmbedder,
                    multilingual_factory=lambda: None)
    return run.execute([pdf])


def test_real_full_tmpfs_during_an_ingest(small_disk: Path):
    """A 4 MB disk, a store of the extract on it, and a 3 MB PDF: refused before writing; and
    when the estimate is wrong (check disabled), the real ENOSPC mid-write is undone at once."""
    index_dir = small_disk / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    generation, before = current_generation(index_dir), held(index_dir)
    with pytest.raises(StoreUnwritable, match="there is not enough space") as info:
        ingest_pdf(index_dir, BIG_PDF)
    assert info.value.free < info.value.needed + disk.RESERVE_BYTES
    assert_untouched(index_dir, generation, before)
    with pytest.MonkeyPatch.context() as patch, pytest.raises(StoreUnwritable, match="the disk filled up") as info:
        patch.setattr(disk, "ensure_space", lambda folder, needed, **_kwargs: None)
        ingest_pdf(index_dir, BIG_PDF)
    assert info.value.errno == errno.ENOSPC
    assert_untouched(index_dir, generation, before)
    # The fix: make room (here: grow the disk), then the same ingest again.
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
    summary = ingest_pdf(index_dir, BIG_PDF)
    assert summary.ok, summary.render()
    assert held(index_dir)[0] == ("caaht-2006-kukes-extract.txt", BIG_PDF.name)


def test_real_read_only_disk(small_disk: Path, tiny_report: Path):
    index_dir = small_disk / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    before = held(index_dir)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with pytest.raises(StoreUnwritable, match="is on a read-only disk"):
        ingest_files(index_dir, [tiny_report])
    assert held(index_dir) == before
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert ingest_files(index_dir, [tiny_report]).ok


# ------------------------------------------------------------------------------ bad lines in a batch

def test_bad_lines_are_reported_and_the_batch_goes_on():
    stream = io.BytesIO(b"\xef\xbb\xbfFirst question?\r\n\xff\xfe bad utf8\n\nnul\x00byte\n"
                        + b"a" * 1_000_000 + b"\n  Last\tquestion?  \n")
    assert list(batch.read_questions(stream)) == [
        batch.BatchLine(1, "First question?"),
        batch.BatchLine(2, None, "the line is not valid UTF-8 (byte 0xff at position 0); save the questions as UTF-8 text"),
        batch.BatchLine(4, None, "the line holds a NUL byte (at position 3); is this a binary file rather than text?"),
        batch.BatchLine(5, None, "the line is 1,000,001 bytes long, more than the 10,000 a question may have"),
        batch.BatchLine(6, "Last question?"),
    ]


def test_a_question_argument_that_is_not_utf8_is_refused():
    assert batch.argument_lines(["bad", "\udcff"]) == [
        batch.BatchLine(1, None, "the question is not valid UTF-8 (at position 4)")]
    assert batch.argument_lines(["How", "many?"]) == [batch.BatchLine(1, "How many?")]


# ------------------------------------------------------------------------ end to end, real commands

def run_module(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, timeout=600)


def test_end_to_end_torn_current_then_the_named_fix(real_store: Path, tmp_path: Path):
    """On a copy of a real store: `python -m index ask` refuses in one sentence, the command it
    names is run as printed, and `ask` answers again; `verify` agrees at each step."""
    index_dir = tmp_path / "store"
    shutil.copytree(real_store, index_dir)
    assert run_module("index", "verify", "--index-dir", str(index_dir)).returncode == 0
    (index_dir / "CURRENT").write_bytes(b'{"gener')
    verify = run_module("index", "verify", "--index-dir", str(index_dir))
    assert verify.returncode == 1 and b"CURRENT: unreadable" in verify.stdout
    refused = run_module("index", "ask", "--index-dir", str(index_dir), QUESTION)
    [line] = refused.stderr.decode().splitlines()
    assert refused.returncode == 2 and line.startswith("error: CURRENT is unreadable"), refused.stderr
    command = shlex.split(FIX.search(line)[1])
    assert command[:4] == ["python", "-m", "ingest", "--repair"], command
    fixed = run_module(*command[2:])
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert b"went back to gen-" in fixed.stdout
    answered = run_module("index", "ask", "--index-dir", str(index_dir), "--json", "-k", "1", QUESTION)
    assert answered.returncode == 0 and ANSWER in json.loads(answered.stdout)["hits"][0]["text"]
    assert run_module("index", "verify", "--index-dir", str(index_dir)).returncode == 0


def test_end_to_end_bad_lines_in_an_ask_batch(real_store: Path):
    lines = b"\xff\xfe bad utf8\n" + QUESTION.encode() + b"\nnul\x00\n" + b"x" * 1_048_576 + b"\n" + QUESTION.encode() + b"\n"
    result = run_module("index", "ask", "--index-dir", str(real_store), "--json", "-k", "1", stdin=lines)
    assert result.returncode == batch.SOME_LINES_FAILED, result.stderr
    objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [(o.get("line"), "error" in o, o["question"]) for o in objects] == [
        (1, True, None), (None, False, QUESTION), (3, True, None), (4, True, None), (None, False, QUESTION)]
    assert all(ANSWER in o["hits"][0]["text"] for o in objects if "hits" in o)
    text = run_module("index", "ask", "--index-dir", str(real_store), "-k", "1", stdin=lines)
    assert text.returncode == batch.SOME_LINES_FAILED
    errors = text.stderr.decode().splitlines()
    assert len(errors) == 3 and all(e.startswith("error: line ") for e in errors), errors
    assert text.stdout.decode().count(f"Q: {QUESTION}") == 2
