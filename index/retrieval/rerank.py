"""Second stage over the fused candidates: what the first stage cannot see on a shelf.

The fusion (`index.retrieval.ranking`) orders passages by their signals alone. On a shelf
of many reports that is not enough:

- report furniture (references, contents, running heads, bare headings, chart ticks)
  shares words with many questions and answers none (`index.passage_kind`);
- a question that names or implies a report ("in the parent guide", "this conference")
  should be answered from that report;
- the right report tends to bring several of the top candidates; a lone passage of
  another report among them is more often a distractor;
- a passage that holds the question's key terms (names, places, years, numbers) is more
  likely the answer than one that only shares its topic;
- the candidates of one section share its title's words: the one that also holds the
  question's other words (those its rivals lack) is the better answer;
- a question asking who presented is answered by the presenter's line of the section that
  best answers the rest of the question.

Each adjustment multiplies a candidate's fused score; the constants were chosen with
`python -m index eval` on the shelf (see README, "Retrieval quality").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Mapping, Sequence

import numpy as np

from index.passage_kind import (CHART, CONTENT, CONTENTS, FURNITURE, HEADING, REFERENCE, RUNNING_HEAD, TITLE,
                                passage_kind)
from index.records import Passage
from index.retrieval.context import context_line, indexed_text
from index.retrieval.keyterms import KeyTerm, key_terms, missing_terms, question_words
from index.retrieval.query import english_places, gloss, language_of
from index.store.lexical import passage_tokens, tokenize
from index.text import fold

# How many of the fused candidates the second stage looks at.
RERANK_DEPTH = 50
# Score multipliers by passage kind: report furniture ranks below content. A section's title
# ("Mediation and conflict resolution techniques … — Mr. Oltion Kadaifciu, AFCR") shares every
# word of its section's questions but answers them only when they ask who presented: then a title
# naming its presenter keeps its score (and gains PRESENTER_BOOST). Measured on the shelf store
# (make eval, all 180 answerable questions): R@1 0.84 → 0.87 with the multilingual model,
# 0.80 → 0.82 without it.
KIND_PRIOR = {CONTENT: 1.0, HEADING: 0.6, REFERENCE: 0.5, CONTENTS: 0.4, RUNNING_HEAD: 0.4, CHART: 0.6,
              TITLE: 0.6}
# A passage of the report the question names or points to ("this guide") gains this factor.
NAMED_REPORT_BOOST = 1.6
# A passage of the one report that alone holds a name the question uses ("Kukës", "Interpol",
# "VMA") gains this factor: the question implies that report without naming its title.
IMPLIED_REPORT_BOOST = 1.3
# Names in a question: a capitalised word after the first, or an acronym anywhere.
QUESTION_WORD = re.compile(r"[^\W\d_][\w’']*")
ACRONYM = re.compile(r"[A-Z]{2,}")
# After these a full stop ends no sentence ("Ms. Orgocka"); Albanian Z., Znj., Zj. as well.
HONORIFICS = frozenset({"mr", "ms", "mrs", "dr", "prof", "z", "znj", "zj"})
# A question that asks who presented or spoke ("Who presented…?", "Kush foli…?") is answered by
# the line that names a presentation's speaker: such a passage gains this factor.
PRESENTER_BOOST = 1.3
# The two questions below share how they ask ("Who …", "Which speakers …") and what a talk is
# ("… gave the presentation on …": at most three words between the verb and the talk).
_ASKS_WHO = r"^\W*(who|kush|which (speakers?|presenters?|organi[sz]ations?)|cil\w*\s+organizat\w*)\b"
_A_TALK = r"\s+(\S+\s+){0,3}?(presentations?|talks?|speech(es)?|prezantimin|fjalimin)"
PRESENTER_QUESTION = re.compile(_ASKS_WHO + r".*"
                                r"\b(presented|presents|presenting|spoke|speaks?|speaking|"
                                r"talked|talks?|discuss(ed|es)?|represent\w*|prezant\w*|fol(i|ën|ur)?|"
                                r"p[ëe]rfaq[ëe]s\w*|"
                                r"(gave|gives?|made|delivered|mbajti|mbajtën|dha)" + _A_TALK + r")\b",
                                re.IGNORECASE)
# A question about who presented at the conference, in the past and without a modal ("Who talked
# about mediation?", "Who gave the presentation on …?", not "Who should victims talk to?"): its
# presenter's line goes first.
PRESENTED_QUESTION = re.compile(
    _ASKS_WHO + r"(?!.*\b(should|shall|can|could|would|will|must|may|might|duhet|mund)\b).*"
    r"\b(presented|spoke|talked|discussed|represented|prezantoi|prezantuan|foli|folën|"
    r"p[ëe]rfaq[ëe]soi|p[ëe]rfaq[ëe]sonte|p[ëe]rfaq[ëe]suan|"
    r"(gave|made|delivered|mbajti|mbajtën|dha)" + _A_TALK + r")\b", re.IGNORECASE)
# ... and the presenter's line of the best candidate's section leads it by this share.
PRESENTER_LEAD = 0.001
# A question stripped of the words naming its report must keep this many words to be asked so.
MIN_WITHIN_REPORT_WORDS = 2
# Share of the top candidates' fused mass a report holds → up to this much gain.
COHERENCE_DEPTH = 10
# (Measured: it moved right answers down on the extract's questions, so it is off.)
COHERENCE_WEIGHT = 0.0
# Deictic phrases that point at the report in focus rather than name one.
POINTS_AT_REPORT = re.compile(
    r"\b(this|that|the same|these)\s+(report|guide|document|chapter|conference|region|qark|committee|"
    r"publication|booklet|training|study)\b", re.IGNORECASE)
# Words of report titles and file names that name no report in particular.
GENERIC_NAME_WORDS = frozenset({"pdf", "txt", "final", "updat", "extract", "report", "guid"})
# Case endings of Albanian nouns a foreign name does not have: a capitalised word with one is a
# common word of a name the reports print in English ("Zgjidhjen e Konflikteve").
ALBANIAN_CASE_ENDINGS = ("jen", "eve", "ës", "ën")
# ... read only on words this long: "Save" (the Children) is English.
MIN_INFLECTED_LENGTH = 6
# A name printed in at least this share of a report's passages counts as held by all of them in
# the key-term check (`characterising_reports`): "UNODC" in 17% of its global report's passages,
# "Kukës" in the conference report; a country named once in an endnote is not.
REPORT_NAME_SHARE = 0.1
# ... and in this many at least: in a report of ten passages, one mention is no characteristic.
REPORT_NAME_MIN_PASSAGES = 3
# How many of the top passages (with their neighbours) the key-term check reads.
KEY_TERM_WINDOWS = 10
# ... and how many of the first it also reads together, for a question joining two names
# ("VMA-Kukes and Christian Children's Fund"; "Kukës dhe Tropojë").
KEY_TERM_TOGETHER = 2
JOINED_NAMES = re.compile(r"\b[A-Z][\w'’-]*\s+(and|or|dhe|apo|ose)\s+[A-Z]")
# A candidate gains up to this factor for the share of the question's words it holds (with its
# context line), each word weighted by how few of the RERANK_DEPTH candidates hold it: words
# every candidate has ("Kukës", a section title's words) decide nothing. Measured over every
# question file on the shelf store (make eval; README "Retrieval quality").
QUESTION_WORD_WEIGHT = 0.5
# How many passages' words are kept between questions.
INDEXED_TOKENS_CACHE = 4096


@dataclass(frozen=True)
class ReportWords:
    """Each report's naming words (title and file name, stemmed), to see which one a question names."""

    by_report: dict[str, frozenset[str]]
    document_frequency: dict[str, int]


_report_words_cache: dict[int, tuple[object, ReportWords]] = {}


def kind_of(passages, row: int) -> str:
    """A passage's kind: as marked at ingest, else (a store built before the mark) judged from
    its text alone. Only the passages being ranked are judged, so a question's cost does not
    grow with the store; such a store is re-marked by its next ingest (the splitter changed)."""
    passage = passages[row]
    return passage.kind or passage_kind(passage.text)


def report_words(passages: Sequence[Passage]) -> ReportWords:
    cached = _report_words_cache.get(id(passages))
    if cached is not None and cached[0] is passages:
        return cached[1]
    titles: dict[str, str] = {}
    for p in passages:
        titles.setdefault(p.report, p.title)
    result = words_of_titles(titles)
    _report_words_cache.clear()
    _report_words_cache[id(passages)] = (passages, result)
    return result


def words_of_titles(titles: Mapping[str, str]) -> ReportWords:
    """Each report's naming words from its title and file name (report name → title)."""
    by_report = {r: frozenset(tokenize(f"{t} {re.sub(r'[_.-]+', ' ', r)}")) - GENERIC_NAME_WORDS
                 for r, t in titles.items()}
    df: dict[str, int] = {}
    for words in by_report.values():
        for w in words:
            df[w] = df.get(w, 0) + 1
    return ReportWords(by_report, df)


def named_report(question: str, words: ReportWords, *, spread: Callable[[str], int] | None = None) -> str | None:
    """The report whose title words the question uses most distinctively, if one stands out.
    `words`: the shelf's report words (`report_words`, or `words_of_titles` for a backend that
    holds only some rows in memory). `spread(word)`: in how many reports' texts a title word
    occurs. A title word that most reports use ("victims", "countries") names none of them,
    though only one title has it."""
    if len(words.by_report) < 2:
        return None
    asked = set(tokenize(question))
    n = len(words.by_report)

    def weight(word: str) -> float:
        holders = words.document_frequency[word]
        return float(np.log(1 + n / max(holders, spread(word) if spread is not None else 0)))

    scores = {r: sum(weight(w) for w in asked & ws) for r, ws in words.by_report.items()}
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, runner_up = ranked[0], ranked[1]
    # Two distinctive title words, or one that no other report's title has.
    return best[0] if best[1] >= 2 * np.log(1 + n / 1) * 0.75 and best[1] > 1.5 * runner_up[1] else None


def names_in(question: str) -> list[str]:
    """The names a question uses, each once: acronyms, and capitalised words that do not open a
    sentence ("Kukës", "Western", "Orgocka" in "Ms. Orgocka"). A hyphen separates names."""
    names, previous_end, previous_word = [], None, ""
    for match in QUESTION_WORD.finditer(question):
        word = match.group(0)
        between = question[previous_end:match.start()] if previous_end is not None else ""
        opens = previous_end is None or (re.search(r"[.?!]", between) is not None
                                         and previous_word.casefold() not in HONORIFICS)
        if word.casefold() not in HONORIFICS and (ACRONYM.fullmatch(word) or (word[0].isupper() and not opens)):
            names.append(word)
        previous_end, previous_word = match.end(), word
    return list(dict.fromkeys(names))


def implied_report(question: str, holders: Callable[[str], frozenset[str]]) -> str | None:
    """The one report holding every name of the question that only one report holds ("Kukës",
    "Interpol"), or None (no such name, or names pointing at different reports).
    `holders(name)`: the reports whose passages hold a name."""
    single = set()
    for name in names_in(question):
        found = holders(name)
        if len(found) == 1:
            single |= found
    return single.pop() if len(single) == 1 else None


def within_report_query(question: str, naming: frozenset[str] | None) -> str:
    """`question` without `naming`, the (tokenised) words of the title of the report it names
    (`named_report`; None when it names none): once the report is known, "convenience store" in
    "which purchases at a convenience store…" is in all of its passages and ranks none of them;
    the words left say which passage is meant."""
    if not naming:
        return question
    kept = [w for w in re.findall(r"\S+", question) if not set(tokenize(w)) & naming]
    return " ".join(kept) if len(tokenize(" ".join(kept))) >= MIN_WITHIN_REPORT_WORDS else question


def adjust(question: str, rows: np.ndarray, fused: np.ndarray, passages: Sequence[Passage], *,
           focus: str | None = None, named: str | None = None, implied: str | None = None) -> np.ndarray:
    """The fused scores of `rows` after the second stage (only the top RERANK_DEPTH change).
    `named`: the report the question names (`named_report`); `implied`: the one report holding a
    name the question uses (IMPLIED_REPORT_BOOST); `focus`: the report "this report" means."""
    if len(rows) == 0:
        return fused
    out = fused.astype(np.float64).copy()
    top = np.argsort(-fused, kind="stable")[:RERANK_DEPTH]
    presenter = PRESENTER_QUESTION.search(question) is not None
    for i in top:
        kind = kind_of(passages, int(rows[i]))
        if not (presenter and kind == TITLE and names_its_speaker(passages[int(rows[i])])):
            out[i] *= KIND_PRIOR.get(kind, 1.0)
    target = focus if focus is not None and POINTS_AT_REPORT.search(question) else named
    boost = NAMED_REPORT_BOOST
    if target is None and implied is not None:
        target, boost = implied, IMPLIED_REPORT_BOOST
    if target is not None:
        for i in top:
            if passages[int(rows[i])].report == target:
                out[i] *= boost
    if presenter:
        for i in top:
            if names_its_speaker(passages[int(rows[i])]):
                out[i] *= PRESENTER_BOOST
    _coherence(out, rows, top, passages)
    _question_words(out, question, rows, top, passages)
    if PRESENTED_QUESTION.search(question):
        _presenter_first(out, rows, top, passages)
    return out


def _question_words(out: np.ndarray, question: str, rows: np.ndarray, top: np.ndarray,
                    passages: Sequence[Passage]) -> None:
    """Scale each of `top` by the (inverse candidate frequency) weighted share of the question's
    words its indexed text holds (QUESTION_WORD_WEIGHT)."""
    if QUESTION_WORD_WEIGHT == 0 or len(top) == 0:
        return
    asked = set(tokenize(gloss(question) if language_of(question) == "sq" else question))
    if not asked:
        return
    held = [asked.intersection(_indexed_tokens(passages[int(rows[i])])) for i in top]
    n = len(top)
    holders = {w: sum(w in h for h in held) for w in asked}
    # A word no candidate holds weighs most and so damps every gain: a question half made of words
    # the reports never use says less about which candidate it means. (Leaving such words out
    # moved an Albanian question, whose gloss keeps words the vocabulary lacks, from first to
    # second without the multilingual model, and changed nothing else: make eval, 2026-11-30.)
    weight = {w: float(np.log((n - k + 0.5) / (k + 0.5) + 1)) for w, k in holders.items()}
    total = sum(weight.values())
    for i, words in zip(top, held):
        out[i] *= 1.0 + QUESTION_WORD_WEIGHT * sum(weight[w] for w in words) / total


@lru_cache(maxsize=INDEXED_TOKENS_CACHE)
def _indexed_tokens(passage: Passage) -> frozenset[str]:
    """A passage's words as BM25 reads them (context line and text); kept, as the same passages
    come back question after question."""
    return frozenset(passage_tokens(indexed_text(passage), passage.language))


def _presenter_first(out: np.ndarray, rows: np.ndarray, top: np.ndarray, passages: Sequence[Passage]) -> None:
    """Put the presenter's line of the best candidate's section (when it is a candidate) first:
    "Who talked about mediation …?" is answered by "Mediation … — Mr. Oltion Kadaifciu, AFCR",
    the title of the section whose passages answer "mediation …"."""
    best = int(top[np.argmax(out[top])])
    section = passages[int(rows[best])]
    for i in top:
        p = passages[int(rows[i])]
        if (p.report, p.section) == (section.report, section.section) and i != best \
                and kind_of(passages, int(rows[i])) == TITLE and names_its_speaker(p):
            out[i] = out[best] * (1.0 + PRESENTER_LEAD)
            return


def names_its_speaker(passage: Passage) -> bool:
    """Whether a passage's text names the speaker of its presentation (the presenter's line)."""
    surname = (passage.speaker or "").split()[-1:]
    return bool(surname) and re.search(rf"\b{re.escape(fold(surname[0]))}\b", fold(passage.text)) is not None


def _coherence(out: np.ndarray, rows: np.ndarray, top: np.ndarray, passages: Sequence[Passage]) -> None:
    if COHERENCE_WEIGHT == 0:
        return
    head = top[np.argsort(-out[top], kind="stable")][:COHERENCE_DEPTH]
    mass: dict[str, float] = {}
    for i in head:
        report = passages[int(rows[i])].report
        mass[report] = mass.get(report, 0.0) + out[i]
    total = sum(mass.values()) or 1.0
    for i in top:
        out[i] *= 1.0 + COHERENCE_WEIGHT * mass.get(passages[int(rows[i])].report, 0.0) / total


def window(passages: Sequence[Passage], row: int, *, neighbours: bool = True) -> list[str]:
    """A passage read with its context: section, presenter, organisation, report title, and
    (when asked) the passages on either side in the same report that are not furniture."""
    passage = passages[row]
    texts = [passage.text, context_line(passage), passage.title]
    if neighbours:
        for other in (row - 1, row + 1):
            try:
                near = passages[other]
            except (IndexError, KeyError):
                continue
            if other >= 0 and near.report == passage.report and kind_of(passages, other) not in FURNITURE:
                texts.append(near.text)
    return texts


def unanswered_terms(question: str, top_rows: Sequence[int], passages: Sequence[Passage], *,
                     characterised: Callable[[str], frozenset[str]] | None = None) -> tuple[KeyTerm, ...]:
    """The question's key terms that none of the top passages (read with context and
    neighbours) holds together; empty when the question names nothing, some passage has it all,
    or the question joins two names and the first two passages hold them together.
    Furniture holds no answer: "Peru" in a bibliography entry does not make a question about
    Peru answerable. `characterised(name)`: the reports a name is printed all through
    (`characterising_reports`); every passage of such a report holds it ("UNODC" for its global
    report, asked "according to the UNODC report …" of a passage that does not repeat it)."""
    terms = question_terms(question)
    if not terms:
        return ()
    rows = [int(r) for r in top_rows[:KEY_TERM_WINDOWS] if kind_of(passages, int(r)) not in FURNITURE]
    windows = [window(passages, r) for r in rows]
    missing = missing_terms(terms, windows)
    if missing and characterised is not None:
        about = {t.folded: characterised(t.text) for t in missing if t.kind == "name"}
        if any(about.values()):
            known = [frozenset(name for name, reports in about.items() if passages[r].report in reports)
                     for r in rows]
            missing = missing_terms(terms, windows, known)
    if not missing or not JOINED_NAMES.search(question):
        return missing
    # A question about two named things ("Which speakers represented VMA-Kukes and Christian
    # Children's Fund?") is answered by two passages: the first ones, read together.
    together = [text for texts in windows[:KEY_TERM_TOGETHER] for text in texts]
    return missing if missing_terms(terms, [together]) else ()


def characterising_reports(holding: Mapping[str, int], sizes: Mapping[str, int]) -> frozenset[str]:
    """The reports a name characterises: `holding[report]` of its passages print it, at least
    REPORT_NAME_SHARE of its `sizes[report]` and REPORT_NAME_MIN_PASSAGES at least. A name
    printed once ("Peru" in an endnote) is not what a report is about; its publisher or its
    subject, printed all through, is. A report of unknown size is characterised by nothing."""
    return frozenset(report for report, count in holding.items() if report in sizes
                     and count >= max(REPORT_NAME_MIN_PASSAGES, REPORT_NAME_SHARE * sizes[report]))


def question_terms(question: str) -> tuple[KeyTerm, ...]:
    """The key terms of a question; in an Albanian one, words the vocabulary translates are not names."""
    if language_of(question) == "sq":
        # Its places are looked for by their English names, as the reports print them.
        english = english_places(question)
        common = _albanian_common_words(english)
        return key_terms(english, translatable=lambda word: word in common)
    return key_terms(question)


def _albanian_common_words(question: str) -> set[str]:
    """The capitalised words of an Albanian question that are common words of a name the reports
    print in English, not names to find as written: those the vocabulary translates, those
    inflected as Albanian nouns ("Zgjidhjen", "Konflikteve"), and capitalised words next to one
    of these ("Linjës Kombëtare", "Qenieve Njerëzore"). A person ("Ermira Çela") or a town not
    in the list ("Rrëshen") stays a name; places were already put in English."""
    words = question_words(question)  # as key_terms reads them, so that its words are found here
    common = {w for w in words if w[:1].isupper() and _albanian_common_word(w)}
    for before, after in zip(words, words[1:]):
        if before[:1].isupper() and after[:1].isupper():
            if before in common:
                common.add(after)
            elif after in common:
                common.add(before)
    return common


def _albanian_common_word(word: str) -> bool:
    if gloss(word).strip().casefold() != word.casefold():
        return True
    folded = word.casefold()
    return len(folded) >= MIN_INFLECTED_LENGTH and folded.endswith(ALBANIAN_CASE_ENDINGS)
