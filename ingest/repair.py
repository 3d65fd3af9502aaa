"""Bring a damaged store back: what `python -m ingest` does first, and `python -m ingest --repair`.

The order of remedies, cheapest first:

1. The current generation is sound: remove what else is damaged (an old generation, a report
   copy whose bytes no longer match its sha256). Nothing the index answers with changes.
2. The current generation is damaged, missing, or CURRENT is torn: point CURRENT back at the
   newest sound generation (two are kept), then bring it up to what the damaged one held by
   re-reading the reports it lacks from their copies in sources/, each checked against its sha256.
3. No sound generation: rebuild every report from its copy.
4. What has neither a sound generation nor a sound copy is named: those reports must be added
   again (`ReportsLost`, whose fix is the command to do so).

Report copies are hard-linked aside before anything is removed: each ingest cleans copies no
sound generation points at, and those are the very copies a rebuild needs.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from index.embedder import Embedder, MultilingualEmbedder, load_multilingual
from index.errors import ReportsLost
from index.store import disk
from index.store.verify import (CURRENT, REPAIR_DIR, SOURCE_INFO_SUFFIX, SOURCES, TEMP_PREFIX, Verification,
                                sha256_file, verify_store)

from ingest.builder import writer_lock
from ingest.readers import ReadOptions

PLAN = "plan.json"
RECOVERED_PREFIX = "recovered-"

Log = Callable[[str], object]


@dataclass(frozen=True)
class Restore:
    """A report to re-read from its kept copy."""

    report: str
    sha256: str
    title: str | None
    year: int | None


@dataclass
class RepairResult:
    path: Path
    actions: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)          # no longer in the index: add again
    copies_lost: list[str] = field(default_factory=list)   # still answered, but cannot be rebuilt

    @property
    def changed(self) -> bool:
        return bool(self.actions or self.restored or self.lost)

    def error(self) -> ReportsLost | None:
        if self.lost:
            return ReportsLost(self.path, tuple(self.lost))
        if self.copies_lost:
            return ReportsLost(self.path, tuple(self.copies_lost),
                               detail=f"the index answers, but the kept copy of {', '.join(self.copies_lost)} "
                                      f"was damaged, so it cannot be rebuilt after a model change")
        return None

    def render(self) -> str:
        lines = [f"Repair: {a}" for a in self.actions]
        lines += [f"Repair: re-read {name} from its kept copy" for name in self.restored]
        error = self.error()
        if error:
            lines.append(f"Repair: {error}")
        return "\n".join(lines) + ("\n" if lines else "")


def repair_store(index_dir: Path | str, *, full: bool = False, options: ReadOptions = ReadOptions(),
                 embedder: Embedder | None = None, embedder_factory: Callable[[], Embedder] | None = None,
                 multilingual_factory: Callable[[], MultilingualEmbedder | None] = load_multilingual,
                 log: Log | None = None) -> RepairResult:
    """Check the store and mend what is wrong. `full` also hashes every report copy (slower).

    Kill-safe: the plan (which generation to go back to, which reports to re-read) and hard
    links to the copies it needs are written to `.repair/` before anything is changed, and
    removed only when the plan is done, so a repair killed half-way is finished by the next run."""
    index_dir = Path(index_dir)
    result = RepairResult(index_dir)
    stash = index_dir / REPAIR_DIR
    if not index_dir.is_dir() or (not (stash / PLAN).exists() and verify_store(index_dir, hash_sources=full).ok):
        return result
    say = (lambda text: log(text + "\n")) if log else (lambda _text: None)
    with writer_lock(index_dir, on_wait=lambda: say("another ingest is running; waiting…")):
        plan = _read_plan(stash)
        if plan is None:
            disk.remove_quietly(stash)  # left by a repair killed before it had decided anything
            found = verify_store(index_dir, hash_sources=full)  # again: the store may have changed meanwhile
            if found.ok:  # what looked wrong was another writer at work
                return result
            plan = _mend(index_dir, found, stash, result)
        else:
            result.actions.append("finishing a repair that was interrupted")
            _carry_out(index_dir, plan, result)
    restores = [r if isinstance(r, Restore) else Restore(**r) for r in plan["restores"]]
    _rebuild(index_dir, stash, restores, plan["removals"], result, options=options, embedder=embedder,
             embedder_factory=embedder_factory, multilingual_factory=multilingual_factory, say=say)
    disk.remove_quietly(stash)
    return result


# ------------------------------------------------------------------------ under the writer lock

def _mend(index_dir: Path, found: Verification, stash: Path, result: RepairResult) -> dict:
    """Decide, write the plan, then remove and re-point; the plan says what must be re-read or removed."""
    bad_copies = {s.sha256 for s in found.bad_sources()}
    sound_copies = _stash_sound_copies(index_dir, stash, bad_copies)
    for check in found.bad_sources():
        disk.remove_quietly(index_dir / SOURCES / check.sha256)
        result.actions.append(f"removed {check.problem.line()}")
    damaged = [g.name for g in found.generations if not g.ok]
    if found.current_ok:
        plan = {"good": found.current, "damaged": damaged, "restores": [], "removals": []}
        result.copies_lost += sorted({r for s in found.bad_sources() for r in s.reports})
    else:
        plan = _plan_going_back(index_dir, found, sound_copies, result)
    _write_plan(stash, plan)
    if not found.current_ok:
        good = next((g for g in found.generations if g.name == plan["good"]), None)
        was = found.current_problem.line() if found.current_problem else f"{found.current} is damaged"
        result.actions.append(f"{was}; went back to {good.name} (written {good.created_at or 'earlier'})" if good
                              else "no sound generation is left; rebuilding from the kept report copies")
    for gen in found.generations:
        if not gen.ok:
            first = gen.problems[0].line() if gen.problems else "damaged"
            more = f" and {len(gen.problems) - 1} more" if len(gen.problems) > 1 else ""
            result.actions.append(f"removed damaged generation {gen.name} ({first}{more})")
    _carry_out(index_dir, plan, result)
    return plan


def _plan_going_back(index_dir: Path, found: Verification, sound_copies: set[str], result: RepairResult) -> dict:
    """The newest sound generation, and what to re-read or take out to match the damaged one."""
    good = next((g for g in found.generations if g.ok), None)
    wanted = _wanted_reports(found)
    have = {(r.get("report"), r.get("sha256")) for r in (good.reports if good else ())}
    restores, lost, removals = [], [], []
    if wanted is not None:
        for entry in wanted:
            if (entry.get("report"), entry.get("sha256")) in have:
                continue
            if entry.get("sha256") in sound_copies:
                restores.append(Restore(entry["report"], entry["sha256"], entry.get("title"), entry.get("year")))
            else:
                lost.append(str(entry.get("report")))
        names = {e.get("report") for e in wanted}
        removals = sorted(str(r.get("report")) for r in (good.reports if good else ()) if r.get("report") not in names)
    else:
        # Which reports the damaged generation held is unknown: every sound copy no sound
        # generation holds comes back, under the name kept beside it or one made from its hash.
        held = {sha for _, sha in have}
        restores = [_restore_from_copy(index_dir, sha) for sha in sorted(sound_copies - held)]
        nameless = [r.report for r in restores if r.report.startswith(RECOVERED_PREFIX)]
        if nameless:
            result.actions.append(f"the record of the damaged generation is lost; {len(nameless)} kept report "
                                  f"cop{'y comes' if len(nameless) == 1 else 'ies come'} back as "
                                  f"{', '.join(nameless)} (remove and add them again under their own names "
                                  f"if you like)")
    result.lost += lost
    return {"good": good.name if good else None, "damaged": [g.name for g in found.generations if not g.ok],
            "restores": [asdict(r) for r in restores], "removals": removals}


def _carry_out(index_dir: Path, plan: dict, result: RepairResult) -> None:
    """Re-point CURRENT and remove the damaged generations. Safe to run again after a kill."""
    try:
        current = json.loads((index_dir / CURRENT).read_text("utf-8"))["generation"]
    except FileNotFoundError:
        current = None
    except (ValueError, KeyError, TypeError):
        current = "unreadable"
    if current != plan["good"] and (current is None or current == "unreadable" or current in plan["damaged"]
                                    or not (index_dir / current).is_dir()):
        if plan["good"] is not None and (index_dir / plan["good"]).is_dir():
            _point_current_at(index_dir, plan["good"])
        else:
            disk.remove_quietly(index_dir / CURRENT)
    for name in plan["damaged"]:
        if name != plan["good"]:
            disk.remove_quietly(index_dir / name)


def _write_plan(stash: Path, plan: dict) -> None:
    stash.mkdir(exist_ok=True)
    temp = stash / f"{TEMP_PREFIX}{PLAN}"
    with disk.writing(stash.parent, cleanup=lambda: disk.remove_quietly(temp)):
        with open(temp, "wb") as handle:
            handle.write(json.dumps(plan, ensure_ascii=False).encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, stash / PLAN)


def _read_plan(stash: Path) -> dict | None:
    try:
        plan = json.loads((stash / PLAN).read_text("utf-8"))
        plan["restores"] = [Restore(**r) for r in plan["restores"]]
        return plan
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _wanted_reports(found: Verification) -> tuple[dict, ...] | None:
    """The reports the store held before the damage: from the current manifest if it can be read,
    else from the newest generation whose manifest can (a torn CURRENT pointed at it or an older one)."""
    current = found.current_check
    if current is not None:
        return current.reports
    if found.current is not None:  # CURRENT names a generation that is gone: its list is lost
        return None
    return next((g.reports for g in found.generations if g.reports is not None), None)


def _restore_from_copy(index_dir: Path, sha: str) -> Restore:
    """A copy no sound generation holds, under the name kept beside it (or one made from its hash)."""
    try:
        about = json.loads((index_dir / SOURCES / f"{sha}{SOURCE_INFO_SUFFIX}").read_text("utf-8"))
        return Restore(str(about["report"]), sha, about.get("title"), about.get("year"))
    except (OSError, ValueError, KeyError, TypeError):
        return Restore(f"{RECOVERED_PREFIX}{sha[:12]}", sha, None, None)


def _stash_sound_copies(index_dir: Path, stash: Path, bad: set[str]) -> set[str]:
    """Hard-link (or copy) every sound report copy aside; their hashes."""
    folder = index_dir / SOURCES
    if not folder.is_dir():
        return set()
    stash.mkdir(exist_ok=True)
    kept = set()
    for source in folder.iterdir():
        if source.name in bad or source.name.startswith(TEMP_PREFIX) or source.name.endswith(SOURCE_INFO_SUFFIX) \
                or not source.is_file():
            continue
        try:
            os.link(source, stash / source.name)
        except OSError:
            shutil.copyfile(source, stash / source.name)
        kept.add(source.name)
    return kept


def _point_current_at(index_dir: Path, generation: str) -> None:
    """Replace CURRENT atomically, as publish does."""
    temp = index_dir / f"{TEMP_PREFIX}{CURRENT}-{secrets.token_hex(3)}"
    with disk.writing(index_dir, cleanup=lambda: disk.remove_quietly(temp)):
        with open(temp, "wb") as handle:
            handle.write(json.dumps({"generation": generation}).encode())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, index_dir / CURRENT)
        if os.name != "nt":
            fd = os.open(index_dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# ------------------------------------------------------------------------------ re-reading

def _rebuild(index_dir: Path, stash: Path, restores: list[Restore], removals: list[str], result: RepairResult,
             *, options: ReadOptions, embedder: Embedder | None, embedder_factory, multilingual_factory,
             say: Callable[[str], object]) -> None:
    """Re-read each report from its stashed copy (one publish each), then take out extras."""
    from ingest.pipeline import IngestRun  # the pipeline runs this module first: import late

    run = IngestRun(index_dir, options=options, embedder=embedder, embedder_factory=embedder_factory,
                    multilingual_factory=multilingual_factory, log=lambda text: say(f"repair: {text.rstrip()}"),
                    repair=False)
    for item in restores:
        if sha256_file(stash / item.sha256) != item.sha256:
            result.lost.append(item.report)
            result.actions.append(f"the kept copy of {item.report} does not match its sha256")
            continue
        run.options = replace(options, title=item.title, year=item.year)
        summary = run.execute([stash / item.sha256], names=[item.report])
        if summary.ok:
            result.restored.append(item.report)
        else:
            result.lost.append(item.report)
            result.actions.append(f"could not re-read {item.report}: {summary.outcomes[0].line()}")
    if removals:
        run.options = options
        run.execute([], remove=removals)
        result.actions.append(f"took out {', '.join(removals)}, removed after the generation gone back to")

