"""Questions for `python -m index ask`, one per line of standard input, read as bytes.

A batch is often a file pasted together from many places. A line that cannot be a question
(invalid UTF-8, a NUL byte, a runaway line of a megabyte) is reported on its own — one line on
stderr, or a JSON object with an `error` field under --json — and the batch goes on with the
next line. The command's exit code then says that some lines failed (`SOME_LINES_FAILED`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import BinaryIO, Iterable, Iterator, TextIO

# Far above any real question (the longest in the eval files is ~150 bytes), far below what
# would make the tokenizer and the searcher crawl.
MAX_QUESTION_BYTES = 10_000
DRAIN_CHUNK = 1 << 16
SOME_LINES_FAILED = 1
BOM = "\ufeff"


@dataclass(frozen=True)
class BatchLine:
    """Line `number` of the batch (1-based): a question, or why it cannot be one."""

    number: int
    question: str | None
    error: str | None = None

    def failed(self, why: str) -> "BatchLine":
        return replace(self, error=why)

    def error_json(self) -> dict:
        return {"line": self.number, "question": self.question, "error": self.error}

    def error_line(self) -> str:
        return f"error: line {self.number}: {self.error} (skipped; the batch goes on)"


def read_questions(stream: BinaryIO, *, max_bytes: int = MAX_QUESTION_BYTES) -> Iterator[BatchLine]:
    """Each non-blank line of `stream` as a question or an error, never reading more than
    `max_bytes` of one line into memory."""
    number = 0
    while raw := stream.readline(max_bytes + 1):
        number += 1
        if len(raw) > max_bytes and not raw.endswith(b"\n"):
            size = len(raw) + _drain_line(stream)
            yield BatchLine(number, None, f"the line is {size:,} bytes long, more than the "
                                          f"{max_bytes:,} a question may have")
            continue
        line = parse_line(number, raw.rstrip(b"\r\n"))
        if line is not None:
            yield line


def _drain_line(stream: BinaryIO) -> int:
    """Skip the rest of an over-long line; how many bytes were skipped."""
    skipped = 0
    while chunk := stream.readline(DRAIN_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def parse_line(number: int, raw: bytes) -> BatchLine | None:
    """One line's bytes as a question; None for a blank line (skipped, as before)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        return BatchLine(number, None, f"the line holds a NUL byte (at position {nul}); "
                                       f"is this a binary file rather than text?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BatchLine(number, None, f"the line is not valid UTF-8 (byte 0x{raw[exc.start]:02x} at position "
                                       f"{exc.start}); save the questions as UTF-8 text")
    text = text.lstrip(BOM) if number == 1 else text
    # Other control characters (a stray tab or form feed) are only spacing in a question.
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return BatchLine(number, text) if text else None


def argument_lines(words: Iterable[str], *, max_bytes: int = MAX_QUESTION_BYTES) -> list[BatchLine]:
    """The question given as arguments, held to the same rules (a shell can pass invalid UTF-8,
    which Python keeps as lone surrogates)."""
    question = " ".join(words)
    try:
        raw = question.encode("utf-8")
    except UnicodeEncodeError as exc:
        return [BatchLine(1, None, f"the question is not valid UTF-8 (at position {exc.start})")]
    if len(raw) > max_bytes:
        return [BatchLine(1, None, f"the question is {len(raw):,} bytes long, more than the {max_bytes:,} "
                                   f"a question may have")]
    return [line] if (line := parse_line(1, raw)) is not None else []


def report(line: BatchLine, *, as_json: bool, out: TextIO, err: TextIO) -> None:
    """Say why `line` was skipped: a JSON object in the output stream, or one line on stderr."""
    if as_json:
        out.write(json.dumps(line.error_json(), ensure_ascii=False) + "\n")
        out.flush()
    else:
        err.write(line.error_line() + "\n")
        err.flush()
