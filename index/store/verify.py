"""Check every file of a store against its manifest: `python -m index verify [--index-dir D]`.

Loading a store may check only sizes and counts (it must be quick); this reads every byte:
each file of the current and the kept generations against the checksums in its manifest,
the manifest against its own checksum file, CURRENT, and each kept report copy in
`sources/` against the sha256 that names it. What it finds is what `python -m ingest --repair`
(ingest/repair.py) mends, so the two share one picture of the store: `Verification`.

Layout-agnostic on purpose: a generation is whatever files its manifest lists, so a new
file kind (per-report segments, say) is checked without a change here.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from index.errors import ingest_command, repair_command
from index.store.layout import (CURRENT, MANIFEST, MANIFEST_CHECKSUM, MANIFEST_COPY, SOURCE_INFO_SUFFIX,
                                SOURCES)

GENERATION = re.compile(r"^gen-(\d+)-[0-9a-f]+$")
TEMP_PREFIX = ".tmp-"
REPAIR_DIR = ".repair"  # ingest/repair.py's plan and report copies while it works
CHUNK = 1 << 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong, named by its path inside the store."""

    where: str
    what: str

    def line(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class GenerationCheck:
    name: str
    number: int
    current: bool
    problems: tuple[Problem, ...]
    # The manifest's report entries when the manifest could be read (even if other files are bad).
    reports: tuple[dict, ...] | None
    created_at: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SourceCheck:
    """A kept report copy: sources/<sha256>, and the reports that point at it."""

    sha256: str
    reports: tuple[str, ...]
    problem: Problem | None


@dataclass(frozen=True)
class Verification:
    path: Path
    current: str | None               # the generation CURRENT names, if it can be read
    current_problem: Problem | None   # CURRENT torn or missing while generations exist
    generations: tuple[GenerationCheck, ...]  # newest first
    sources: tuple[SourceCheck, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)  # harmless: leftovers a next ingest removes

    @property
    def empty(self) -> bool:
        """No store has been published here (nothing to check, nothing wrong)."""
        return self.current is None and self.current_problem is None and not self.generations

    @property
    def current_check(self) -> GenerationCheck | None:
        return next((g for g in self.generations if g.current), None)

    @property
    def current_ok(self) -> bool:
        check = self.current_check
        return self.current_problem is None and (self.empty or (check is not None and check.ok))

    @property
    def problems(self) -> list[Problem]:
        found = [self.current_problem] if self.current_problem else []
        found += [p for g in self.generations for p in g.problems]
        found += [s.problem for s in self.sources if s.problem]
        return found

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad_sources(self) -> list[SourceCheck]:
        return [s for s in self.sources if s.problem]

    def render(self) -> str:
        """What `python -m index verify` prints."""
        lines = [f"Store {self.path}"]
        if self.empty:
            lines.append("  no index has been built here yet (nothing to check)")
        if self.current_problem:
            lines.append(f"  DAMAGED {self.current_problem.line()}")
        for gen in self.generations:
            role = "current" if gen.current else "kept"
            count = f", {len(gen.reports)} report(s)" if gen.reports is not None else ""
            state = "ok" if gen.ok else f"DAMAGED ({len(gen.problems)} problem(s))"
            lines.append(f"  {gen.name} ({role}{count}): {state}")
            lines += [f"    {p.line()}" for p in gen.problems]
        sound = sum(1 for s in self.sources if not s.problem)
        lines.append(f"  {SOURCES}/: {sound} of {len(self.sources)} report copies sound")
        lines += [f"    {s.problem.line()}" for s in self.bad_sources()]
        lines += [f"  note: {note}" for note in self.notes]
        lines.append(f"{'OK' if self.ok else 'PROBLEMS FOUND'}: {self.message() or 'every file matches its manifest.'}")
        return "\n".join(lines) + "\n"

    def message(self) -> str | None:
        """One sentence for a person (the app shows it too), ending in the command that fixes it."""
        if self.ok:
            return None
        if not self.current_ok:
            what = self.current_problem.line() if self.current_problem else \
                next(iter(self.current_check.problems)).line() if self.current_check else "the current index is missing"
            return (f"The index in {self.path} is damaged ({what}). "
                    f"Fix: run `{repair_command(self.path)}`: it goes back to the last sound generation "
                    f"or rebuilds from the kept report copies.")
        lost = sorted({r for s in self.bad_sources() for r in s.reports})
        if lost and all(g.ok for g in self.generations):
            return (f"The index answers, but the kept copy of {', '.join(lost)} is damaged or missing, so it "
                    f"cannot be rebuilt after a model change. Fix: add the file again from your own copy: "
                    f"`{ingest_command(self.path, *lost)}` (give the path of each file).")
        return (f"The index answers, but a kept generation or report copy is damaged. "
                f"Fix: run `{repair_command(self.path)}` to remove what is damaged.")


# ------------------------------------------------------------------------------------------ checks

def verify_store(path: Path | str, *, hash_sources: bool = True) -> Verification:
    """Check the store at `path`. `hash_sources=False` checks report copies by presence only
    (what the automatic check before an ingest does: the copies can be large PDFs)."""
    path = Path(path)
    current, current_problem = _read_current(path)
    names = _generation_names(path)
    if current is not None and current not in names:
        current_problem = Problem(f"{current}/", "the generation CURRENT points at is missing")
    elif current is None and current_problem is None and names:
        current_problem = Problem(CURRENT, "missing, but generations exist")
    generations = []
    for name in names:
        check = _check_generation(path, name, current=(name == current))
        if check is not None:
            generations.append(check)
    sources = _check_sources(path, generations, hash_sources=hash_sources)
    return Verification(path=path, current=current, current_problem=current_problem,
                        generations=tuple(generations), sources=sources, notes=_notes(path, sources))


def _read_current(path: Path) -> tuple[str | None, Problem | None]:
    try:
        name = json.loads((path / CURRENT).read_bytes().decode("utf-8"))["generation"]
    except FileNotFoundError:
        return None, None
    except (ValueError, KeyError, TypeError) as exc:
        return None, Problem(CURRENT, f"unreadable ({type(exc).__name__}: torn or overwritten)")
    if not isinstance(name, str) or not GENERATION.match(name):
        return None, Problem(CURRENT, f"names {name!r}, which is not a generation")
    return name, None


def _generation_names(path: Path) -> list[str]:
    """Generation folders, newest (highest number) first."""
    if not path.is_dir():
        return []
    found = [(int(m[1]), p.name) for p in path.iterdir() if (m := GENERATION.match(p.name)) and p.is_dir()]
    return [name for _, name in sorted(found, reverse=True)]


def _check_generation(path: Path, name: str, *, current: bool) -> GenerationCheck | None:
    gen_dir = path / name
    number = int(GENERATION.match(name)[1])
    manifest, problems = _read_manifest(gen_dir, name)
    if not gen_dir.is_dir() and not current:
        return None  # retired by a writer while we looked: not a problem
    if manifest is None:
        return GenerationCheck(name, number, current, tuple(problems), None)
    checksums = manifest.get("checksums") or {}
    if not checksums:
        problems.append(Problem(f"{name}/{MANIFEST}", "lists no file checksums"))
    for relative, expected in sorted(checksums.items()):
        problem = _check_file(gen_dir / relative, expected, f"{name}/{relative}")
        if problem:
            problems.append(problem)
    listed = set(checksums) | {MANIFEST, MANIFEST_CHECKSUM, MANIFEST_COPY}
    for extra in sorted(_relative_files(gen_dir) - listed):
        problems.append(Problem(f"{name}/{extra}", "is not listed in the manifest"))
    reports = manifest.get("reports")
    return GenerationCheck(name, number, current, tuple(problems),
                           tuple(reports) if isinstance(reports, list) else None,
                           str(manifest.get("created_at", "")))


def _read_manifest(gen_dir: Path, name: str) -> tuple[dict | None, list[Problem]]:
    """The manifest (from its copy when it is the one damaged) and what is wrong with either."""
    where = f"{name}/{MANIFEST}"
    raw = _read_bytes(gen_dir / MANIFEST)
    if raw is None and not gen_dir.is_dir():
        return None, [Problem(f"{name}/", "the folder is missing")]
    copy = _read_bytes(gen_dir / MANIFEST_COPY)
    recorded = _read_bytes(gen_dir / MANIFEST_CHECKSUM)
    if recorded is None:  # written before manifests carried a checksum and a copy
        if raw is None:
            return None, [Problem(where, "missing (the generation was never finished)")]
        return _parse_manifest(raw, where, [])
    recorded = recorded.decode("ascii", "replace").strip()
    sound = [data for data in (raw, copy) if data is not None and hashlib.sha256(data).hexdigest() == recorded]
    problems = []
    if raw not in sound:
        problems.append(Problem(where, "missing" if raw is None else "does not match its checksum"))
    if copy not in sound:
        problems.append(Problem(f"{name}/{MANIFEST_COPY}", "missing" if copy is None else "does not match its checksum"))
    if not sound and raw is not None and raw == copy:
        # Both copies agree: it is the checksum file that was damaged.
        problems = [Problem(f"{name}/{MANIFEST_CHECKSUM}", "does not match the manifest")]
        sound = [raw]
    best = sound[0] if sound else raw if raw is not None else copy
    if best is None:
        return None, problems
    return _parse_manifest(best, where, problems)


def _parse_manifest(raw: bytes, where: str, problems: list[Problem]) -> tuple[dict | None, list[Problem]]:
    try:
        manifest = json.loads(raw.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        return None, problems + [Problem(where, f"unreadable ({type(exc).__name__})")]
    return manifest, problems


def _read_bytes(target: Path) -> bytes | None:
    try:
        return target.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
    except OSError:
        return b""


def _check_file(target: Path, expected: str, where: str) -> Problem | None:
    try:
        actual = sha256_file(target)
    except FileNotFoundError:
        return Problem(where, "missing")
    except IsADirectoryError:
        return Problem(where, "is a folder, not a file")
    except OSError as exc:
        return Problem(where, f"cannot be read ({exc.strerror})")
    if actual != expected:
        return Problem(where, "does not match its checksum (changed or truncated)")
    return None


def _relative_files(gen_dir: Path) -> set[str]:
    try:
        return {str(f.relative_to(gen_dir)).replace(os.sep, "/") for f in gen_dir.rglob("*") if f.is_file()}
    except OSError:
        return set()


def _check_sources(path: Path, generations: list[GenerationCheck], *, hash_sources: bool) -> tuple[SourceCheck, ...]:
    """Each report copy the kept manifests point at, checked against the sha256 that names it."""
    wanted: dict[str, list[str]] = {}
    for gen in generations:
        for report in gen.reports or ():
            sha = str(report.get("sha256", ""))
            names = wanted.setdefault(sha, [])
            if report.get("report") not in names:
                names.append(str(report.get("report")))
    checks = []
    for sha, reports in sorted(wanted.items()):
        where = f"{SOURCES}/{sha}"
        target = path / SOURCES / sha
        if not target.is_file():
            problem = Problem(where, f"the kept copy of {', '.join(reports)} is missing")
        elif hash_sources and sha256_file(target) != sha:
            problem = Problem(where, f"the kept copy of {', '.join(reports)} does not match its sha256")
        else:
            problem = None
        checks.append(SourceCheck(sha, tuple(reports), problem))
    return tuple(checks)


def _notes(path: Path, sources: tuple[SourceCheck, ...]) -> tuple[str, ...]:
    if not path.is_dir():
        return ()
    notes = [f"{p.name} is left over from an unfinished ingest (the next ingest removes it)"
             for p in sorted(path.iterdir()) if p.name.startswith(TEMP_PREFIX)]
    if (path / REPAIR_DIR).exists():
        notes.append(f"{REPAIR_DIR}/ holds an interrupted repair (the next ingest finishes it)")
    known = {s.sha256 for s in sources}
    folder = path / SOURCES
    if folder.is_dir():
        notes += [f"{SOURCES}/{p.name} belongs to no report (an ingest in progress, or left over; "
                  f"the next ingest removes it)" for p in sorted(folder.iterdir())
                  if p.name.removesuffix(SOURCE_INFO_SUFFIX) not in known]
    return tuple(notes)


def sha256_file(target: Path) -> str:
    digest = hashlib.sha256()
    with open(target, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------- the edges

def store_alert(path: Path | str) -> str | None:
    """The message the app shows when the store needs repair (None when all is well): the same
    sentence and command `python -m index verify` prints. Reads every file: cache it per generation."""
    return verify_store(path).message()


def run_verify(path: Path | str, out: TextIO) -> int:
    """`python -m index verify`: print the findings; exit code 1 when anything is wrong."""
    result = verify_store(path)
    out.write(result.render())
    return 0 if result.ok else 1
