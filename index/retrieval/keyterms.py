"""The key terms of a question — names, places, organisations, years, numbers — and whether
the passages found say anything about them.

A question about trafficking in a country, a year or a district the reports never mention
still finds passages about trafficking: their words and meaning are close, and only the
name that matters is missing. So a question is answered only when some candidate passage,
read with its context (section, presenter, organisation, report title and the passages on
either side), holds every key term of the question. Terms match after folding accents and
case, as a close spelling (Albanian "Afrika", "Interpoli" for Africa, Interpol; plurals)
or as an initialism ("DRC" for the Democratic Republic of the Congo, and back).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Iterable, Sequence

from index.text import fold

WORD = re.compile(r"[\w$][\w'’.,$-]*\w|\w", re.UNICODE)
YEAR = re.compile(r"^(19|20)\d{2}$")
NUMBER = re.compile(r"^\$?\d[\d,.]*$")
# A figure with a footnote's number glued to it, before the next sentence: "under the age of 30.2
# By 2050 …" prints 30 (and note 2). The figure alone is also read, so "under 30" finds it.
FOOTNOTE_MARKED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})*)\.\d{1,3}(?=\s+[A-Z])")
# Capitalised words that open or shape a question without naming anything.
NOT_NAMES = frozenset(fold(w) for w in (
    "what which who whom whose how why when where is are was were do does did can could should would will "
    "has have had in on at of for by to from with about according and or but the a an this that these those "
    "there i if as per please tell name list give show explain describe mr mrs ms dr prof "
    # Albanian question and function words
    "sa kush cfare cilat cilet cili cila ku si pse kur a eshte jane ne per nga dhe nje qe se u e te i ka kane "
    "mund duhet ishte ishin cili cilit cilen "
    # capitals that name a kind of thing, not one thing: "send an SMS" is answered by "text HELP to …"
    "sms tv id pdf gps url faq atm".split()))
# Small words inside a name ("Department of Defense") that an initialism skips.
NAME_JOINERS = frozenset("of the and for on in de du des la le al".split())
# A question term matches a passage word this close in spelling (0–1, difflib ratio).
MIN_SPELLING_SIMILARITY = 0.8
MIN_PREFIX = 4


@dataclass(frozen=True)
class KeyTerm:
    text: str  # as written in the question
    folded: str
    kind: str  # "name", "year" or "number"


def question_words(question: str) -> list[str]:
    """A question's words as `key_terms` reads them: "VMA-Kukes" whole, "Fund's" as "Fund",
    surrounding punctuation off (a word may come out empty)."""
    return [re.sub(r"['’]s$", "", token.strip(".,'’")) for token in WORD.findall(question)]


def key_terms(question: str, *, translatable=lambda word: False) -> tuple[KeyTerm, ...]:
    """The names, years and numbers a question asks about, in order, without repeats.

    `translatable(word)` tells a capitalised word the query vocabulary translates (an
    Albanian "Komiteti Rajonal" is the Regional Committee, not a name to find as written).
    """
    terms: dict[str, KeyTerm] = {}
    for position, word in enumerate(question_words(question)):
        folded = fold(word)
        if not word or folded in NOT_NAMES:
            continue
        if YEAR.match(word):
            kind = "year"
        elif NUMBER.match(word):
            kind = "number"
        elif _is_name(word, first=position == 0) and not translatable(word):
            kind = "name"
        else:
            continue
        terms.setdefault(folded, KeyTerm(word, folded, kind))
    return tuple(terms.values())


def _is_name(word: str, *, first: bool) -> bool:
    if len(word) < 2 or not any(c.isalpha() for c in word):
        return False
    inner_capital = any(c.isupper() for c in word[1:])  # NCMEC, iGuardian, McDonald
    return inner_capital or (word[0].isupper() and not first)


@dataclass(frozen=True)
class Vocabulary:
    """The folded words and initialisms of some text, for matching key terms."""

    words: frozenset[str]
    initialisms: frozenset[str]

    @classmethod
    def of(cls, texts: Iterable[str]) -> "Vocabulary":
        words: set[str] = set()
        initialisms: set[str] = set()
        for text in texts:
            tokens = [t.strip(".,'’") for t in WORD.findall(text)]
            words.update(fold(re.sub(r"['’]s$", "", t)) for t in tokens if t)
            words.update(FOOTNOTE_MARKED.findall(text))
            initialisms.update(_initialisms(tokens))
        return cls(frozenset(words), frozenset(initialisms))

    def has(self, term: KeyTerm) -> bool:
        if term.folded in self.words:
            return True
        if term.kind != "name":
            # "1,500" and "1500", "$11,000" and "11,000" are the same figure.
            bare = term.folded.replace(",", "").lstrip("$")
            return any(w.replace(",", "").lstrip("$") == bare for w in self.words if w[:1].isdigit() or w[:1] == "$")
        capitals = "".join(c for c in term.text if c.isupper()).casefold()
        if len(capitals) >= 2 and capitals in self.initialisms and sum(c.isupper() for c in term.text) * 2 >= len(term.text):
            return True  # "DRC", and "DoD" (Department of Defense: joiners are not initials)
        return any(_close(term.folded, w) for w in self.words)


def _close(term: str, word: str) -> bool:
    if len(word) < MIN_PREFIX or word[:2] != term[:2]:
        return False
    if word.startswith(term) or term.startswith(word):
        return min(len(word), len(term)) >= MIN_PREFIX
    return SequenceMatcher(None, term, word).ratio() >= MIN_SPELLING_SIMILARITY


def _initialisms(tokens: list[str]) -> set[str]:
    """Initials of every run of two or more capitalised words ("Democratic Republic of the
    Congo" → "drc", "drotc" is not made: joiners are skipped)."""
    out: set[str] = set()
    run: list[str] = []
    for token in tokens + [""]:
        if token[:1].isupper():
            run.append(token[0])
            continue
        if token.casefold() in NAME_JOINERS and run:
            continue
        if len(run) >= 2:
            for start in range(len(run) - 1):
                for end in range(start + 2, len(run) + 1):
                    out.add("".join(run[start:end]).casefold())
        run = []
    return out


def missing_terms(terms: tuple[KeyTerm, ...], windows: Iterable[Iterable[str]],
                  known: Sequence[frozenset[str]] = ()) -> tuple[KeyTerm, ...]:
    """The key terms that no single window holds all of: empty when some window holds them all.

    Each window is a candidate passage read with its context; `known[i]`, when given, holds the
    folded terms window i holds whatever its words (the names its report is about). Returns the
    terms missing from the window that holds the most of them.
    """
    if not terms:
        return ()
    best: tuple[KeyTerm, ...] | None = None
    for i, window in enumerate(windows):
        vocabulary = Vocabulary.of(window)
        given = known[i] if i < len(known) else frozenset()
        missing = tuple(t for t in terms if t.folded not in given and not vocabulary.has(t))
        if not missing:
            return ()
        if best is None or len(missing) < len(best):
            best = missing
    return best if best is not None else terms
