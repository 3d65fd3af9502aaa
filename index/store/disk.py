"""Writing a store on a real disk: estimate, check free space, and say what went wrong in one sentence.

A publish that cannot finish (full disk, read-only or vanished folder, no permission) must
leave the store as it was: its temporary generation removed at once, no report copy left
that no report points at, the old generation still answering. `writing()` wraps each write
site so that an OSError becomes a `StoreUnwritable` whose message names the folder, the
space needed and the space free, and the fix.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from index.errors import MB, StoreUnwritable, megabytes

# A generation holds arrays whose size is known exactly and text whose files (JSON lines,
# BM25 vocabulary and postings) we estimate from the passage JSON; the margin covers
# file-system blocks and the manifest.
ESTIMATE_MARGIN = 1.25
FIXED_OVERHEAD_BYTES = 256 * 1024
BM25_PER_TEXT_BYTE = 1.0
# Leave this much free beyond the estimate: a disk filled to the last byte breaks other programs.
RESERVE_BYTES = 1 * MB
EDQUOT = getattr(errno, "EDQUOT", errno.ENOSPC)  # Windows has no quota errno
DISK_ERRNOS = {errno.ENOSPC, EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR}

RETRY_HINT = "run the same ingest again"


def estimate_generation_bytes(contents) -> int:
    """About how many bytes `publish(contents)` writes (an `index.store.embedded.Contents`)."""
    passage_json = sum(len(json.dumps(p.to_json(), ensure_ascii=False).encode("utf-8")) + 1
                       for p in contents.passages)
    text = sum(len(p.text.encode("utf-8")) for p in contents.passages)
    arrays = [contents.vectors, contents.sentences, contents.sentence_vectors, contents.multilingual_vectors]
    array_bytes = sum(a.nbytes for a in arrays if a is not None)
    return int((passage_json + array_bytes + BM25_PER_TEXT_BYTE * text) * ESTIMATE_MARGIN) + FIXED_OVERHEAD_BYTES


def free_bytes(folder: Path) -> int | None:
    """Free space where `folder` lives (its nearest existing parent), or None if unknown."""
    folder = Path(folder).absolute()
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def ensure_space(folder: Path, needed: int, *, cleanup: Callable[[], object] | None = None) -> None:
    """Refuse before writing anything when `needed` bytes (plus a reserve) will not fit; `cleanup`
    first undoes what this ingest wrote before (a report copy that will now belong to nothing)."""
    free = free_bytes(folder)
    if free is not None and free < needed + RESERVE_BYTES:
        if cleanup is not None:
            try:
                cleanup()
            except OSError:
                pass
            free = free_bytes(folder)
        if free is None or free < needed + RESERVE_BYTES:
            raise no_space(folder, needed, free, checked_before=True)


def no_space(folder: Path, needed: int | None, free: int | None, code: int = errno.ENOSPC, *,
             checked_before: bool = False) -> StoreUnwritable:
    folder = Path(folder).absolute()
    have = f"{megabytes(free)} is free" if free is not None else "the disk is full"
    if checked_before:
        why = f"it needs about {megabytes(needed + RESERVE_BYTES)} (with {megabytes(RESERVE_BYTES)} kept spare) " \
              f"and only {have}"
    else:
        need = f"about {megabytes(needed)}" if needed else "more space"
        why = f"the disk filled up while writing (it needs {need}; {have} now that the unfinished write is removed)"
    more = max((needed or 0) + RESERVE_BYTES - (free or 0), RESERVE_BYTES)
    return StoreUnwritable(
        folder, f"there is not enough space to write the index in {folder}: {why}; "
                f"nothing was changed and the index as it was still answers",
        fix=f"free at least {megabytes(more)} on that disk (or choose a folder on another disk with --index-dir), "
            f"then {RETRY_HINT}", needed=needed, free=free, errno=code)


def translate(exc: OSError, folder: Path, needed: int | None = None) -> StoreUnwritable:
    """An OSError from writing into the store at `folder`, as one sentence with its fix."""
    folder = Path(folder).absolute()
    code = exc.errno
    if code in (errno.ENOSPC, EDQUOT):
        return no_space(folder, needed, free_bytes(folder), code)
    unchanged = "nothing was changed and the index as it was still answers"
    if code == errno.EROFS:
        return StoreUnwritable(folder, f"{folder} is on a read-only disk, so the index cannot be written; {unchanged}",
                               fix=f"remount that disk read-write (or choose another folder with --index-dir), "
                                   f"then {RETRY_HINT}", needed=needed, free=free_bytes(folder), errno=code)
    if code in (errno.EACCES, errno.EPERM):
        where = exc.filename or folder
        return StoreUnwritable(folder, f"permission to write in {folder} was refused (at {where}); {unchanged}",
                               fix=f"give your user write access (e.g. `chmod -R u+w {folder}`) or choose another "
                                   f"folder with --index-dir, then {RETRY_HINT}",
                               needed=needed, free=free_bytes(folder), errno=code)
    if code in (errno.ENOENT, errno.ENOTDIR):
        return StoreUnwritable(folder, f"the folder {folder} disappeared or is not a folder while the index was "
                                       f"being written (was its drive unplugged?); {unchanged}",
                               fix=f"reconnect the drive or create the folder (`mkdir -p {folder}`), then {RETRY_HINT}",
                               needed=needed, free=free_bytes(folder), errno=code)
    return StoreUnwritable(folder, f"the index in {folder} could not be written ({exc.strerror or exc}); {unchanged}",
                           fix=f"check that disk, then {RETRY_HINT}", needed=needed,
                           free=free_bytes(folder), errno=code)


@contextmanager
def writing(folder: Path, *, needed: int | None = None,
            cleanup: Callable[[], object] | None = None) -> Iterator[None]:
    """Run a write into the store at `folder`. On a disk error: undo with `cleanup` at once
    (itself failing quietly: the disk may refuse even that), then raise `StoreUnwritable`."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in DISK_ERRNOS and not isinstance(exc, PermissionError):
            raise
        if exc.filename and not _inside(exc.filename, folder):
            raise  # a report file we read, not the store we write: the caller says so
        if cleanup is not None:
            try:
                cleanup()
            except OSError:
                pass
        raise translate(exc, folder, needed) from exc


def _inside(filename, folder: Path) -> bool:
    try:
        return Path(os.fsdecode(filename)).absolute().is_relative_to(Path(folder).absolute())
    except (TypeError, ValueError):
        return True


def remove_quietly(target: Path) -> None:
    """Remove a temporary file or folder; a disk that refuses even this is not made worse."""
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target, ignore_errors=True)
    else:
        try:
            target.unlink(missing_ok=True)
        except OSError:
            pass


def app_sentence(exc: Exception) -> str:
    """The message as the app's upload shows it: the retry is a press of the button."""
    return str(exc).replace(RETRY_HINT, "press “Add to the index” again")


def with_retry(exc: StoreUnwritable, command: str) -> str:
    """The message with the exact command to run again (the CLI knows its own argv)."""
    return str(exc).replace(RETRY_HINT, f"run `{command}` again")
