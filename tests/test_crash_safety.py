"""Kills and concurrent writers never leave a torn or mixed store."""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index.store.embedded import load_store

from tests.conftest import CORPUS_FILE, ROOT, TINY_REPORT, ingest_files

CHILD = str(ROOT / "tests" / "ingest_child.py")
KILLS = 25
EMBEDDED = re.compile(r"\s*embedded (\d+)/(\d+) ")


def child(index_dir: Path, *files: Path, slow: float = 0.0) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-u", CHILD, str(index_dir), *map(str, files), "--slow", str(slow)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def tiny_version(path: Path, version: int) -> Path:
    path.write_text(TINY_REPORT.replace("42 women", f"{version} women"), encoding="utf-8")
    return path


def shelter_count(index_dir: Path) -> int:
    """Which version of the tiny report the store holds, checking the store is whole on the way."""
    store = load_store(index_dir)
    assert store.faiss_index.ntotal == len(store.passages) == store.lexical.size == store.manifest.passage_count
    assert sorted(r.report for r in store.manifest.reports) == ["caaht-2006-kukes-extract.txt", "tiny-2009.txt"]
    [line] = [p.text for p in store.passages if p.text.startswith("The shelter in Kukes hosted")]
    return int(line.split()[5])


def kill_at(process: subprocess.Popen, moment: str, rng: random.Random) -> str:
    """SIGKILL the writer at a random moment, and return what it printed.

    "any": a random time after it starts, which mostly lands while it loads or embeds.
    "publish": a random time after its last "embedded N/N" line, where it writes and
    switches generations: on a slow machine a kill timed from the start never gets there.
    """
    seen = []
    if moment == "publish":
        while line := process.stdout.readline():
            seen.append(line)
            embedded = EMBEDDED.match(line)
            if embedded and embedded[1] == embedded[2]:
                break
        time.sleep(rng.uniform(0.0, 0.6))
    else:
        time.sleep(rng.uniform(0.3, 2.5))
    process.send_signal(signal.SIGKILL)
    return "".join(seen) + process.communicate()[0]


def test_sigkill_at_random_moments_leaves_old_or_new_store(tmp_path: Path):
    index_dir, report = tmp_path / "store", tmp_path / "tiny-2009.txt"
    assert ingest_files(index_dir, [CORPUS_FILE, tiny_version(report, 1000)]).ok
    rng = random.Random(2024)
    held, killed_in_publish = 1000, 0
    for attempt in range(1, KILLS + 1):
        new = 1000 + attempt
        process = child(index_dir, tiny_version(report, new), slow=0.1)
        output = kill_at(process, "publish" if attempt % 2 else "any", rng)
        killed_in_publish += "embedded" in output and "new generation" not in output
        now = shelter_count(index_dir)
        assert now in (held, new), f"kill {attempt}: store holds version {now}, expected {held} or {new}"
        held = now
    # The kills landed both before and after publishing, and a writer killed while
    # holding the lock did not block the next one.
    assert killed_in_publish > 0
    final = child(index_dir, tiny_version(report, 5000))
    assert final.wait(timeout=120) == 0
    assert shelter_count(index_dir) == 5000
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-")]
    assert leftovers == []


def test_two_concurrent_ingests_both_land(tmp_path: Path):
    index_dir = tmp_path / "store"
    first_file, second_file = tmp_path / "a-2009.txt", tmp_path / "b-2009.txt"
    first_file.write_text(TINY_REPORT, encoding="utf-8")
    second_file.write_text(TINY_REPORT.replace("42 women", "43 women"), encoding="utf-8")
    first = child(index_dir, CORPUS_FILE, first_file, slow=1.0)
    # Start the second writer only once the first holds the lock (it prints "[1/2]" then).
    started = [first.stdout.readline()]
    assert started[0].startswith("[1/2]"), started
    second = child(index_dir, second_file)
    outputs = ["".join(started) + first.communicate(timeout=300)[0], second.communicate(timeout=300)[0]]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert "another ingest is running; waiting" in outputs[1]
    store = load_store(index_dir)
    assert sorted(r.report for r in store.manifest.reports) == ["a-2009.txt", "b-2009.txt",
                                                               "caaht-2006-kukes-extract.txt"]


@pytest.mark.parametrize("leftover", [".tmp-gen-000009-abcdef", ".tmp-CURRENT-123abc"], ids=["dir", "file"])
def test_leftovers_of_a_killed_writer_are_cleaned(tmp_path: Path, leftover: str):
    index_dir = tmp_path / "store"
    assert ingest_files(index_dir, [CORPUS_FILE]).ok
    path = index_dir / leftover
    path.mkdir() if leftover.startswith(".tmp-gen") else path.write_text("half")
    ingest_files(index_dir, [], remove=[])
    assert not path.exists()
