"""Query-side processing: which language a question is in, and an Albanian→English gloss.

The reports are in English; many users ask in Albanian. The multilingual model reads
Albanian directly; BM25 and the English model need English words, so an Albanian
question is also glossed word by word with a small anti-trafficking vocabulary.
Words the vocabulary does not know (names, places, numbers) are kept as they are.
"""

from __future__ import annotations

import re

from index.language import ALBANIAN_TO_ENGLISH, english_place_name
from index.text import fold

ALBANIAN_LETTERS = frozenset("ëç")
# Function words that are Albanian and not English ("a", "i", "me" are both).
ALBANIAN_WORDS = frozenset(
    "sa kush cfare cilat ciles cilet cili cila ku si pse kur eshte jane te ne per nga dhe nje qe "
    "se u e duhet mund kane ka ishte ishin mbi nder prej tek keto kete ky kjo ato ai ajo cila".split())
WORD = re.compile(r"\w+", re.UNICODE)

GLOSSARY = ALBANIAN_TO_ENGLISH  # one vocabulary for passages and questions (index.language)
# Question words match whole words only ("kush" is "who", "kushton" is "costs").
QUESTION_WORDS = {"sa": "how many", "kush": "who", "cfare": "what", "ku": "where", "si": "how", "pse": "why",
                  "kur": "when", "cilat": "which", "cilet": "which", "cili": "which", "cila": "which"}
ENGLISH_WORDS = frozenset(
    "the of to and in on at by for with from which what who whom how why when where is are was were do does "
    "did should can could their they this that these those about into through".split())
_STEMS = sorted(GLOSSARY, key=len, reverse=True)


def language_of(question: str) -> str:
    """'sq' for Albanian, 'en' otherwise (the only two our users write in)."""
    raw_words = WORD.findall(question.casefold())
    albanian = sum(any(c in ALBANIAN_LETTERS for c in w) or fold(w) in ALBANIAN_WORDS for w in raw_words)
    english = sum(w in ENGLISH_WORDS for w in raw_words)
    return "sq" if albanian > english else "en"


def gloss_coverage(question: str) -> float:
    """The share of an Albanian question's content words that the vocabulary knows.

    Function words, question words, numbers and capitalised words (names, places) do
    not count. When most words are unknown, the English signals see little beyond the
    place names, so a close match proves nothing ("Kush është kryetari aktual i
    Bashkisë Kukës?" — the current mayor — matches Kukës passages).
    """
    content = [w for w in WORD.findall(question)
               if not w[0].isupper() and not w.isdigit() and fold(w) not in ALBANIAN_WORDS
               and fold(w) not in QUESTION_WORDS and len(w) > 1]
    if not content:
        return 1.0
    return sum(_stem_of(fold(w)) is not None for w in content) / len(content)


def _stem_of(folded: str) -> str | None:
    return next((s for s in _STEMS if folded.startswith(s) and (len(s) >= 3 or folded == s)), None)


def english_places(question: str) -> str:
    """An Albanian question with its place words in English ("në Shqipëri" → "në Albania")."""
    return WORD.sub(lambda m: english_place_name(m.group(), fold(m.group())) or m.group(), question)


def gloss(question: str) -> str:
    """An English word-by-word gloss of an Albanian question, for the English-only signals."""
    out: list[str] = []
    for word in WORD.findall(question):
        folded = fold(word)
        stem = _stem_of(folded)
        place = english_place_name(word, folded)
        if folded in QUESTION_WORDS:
            out.append(QUESTION_WORDS[folded])
        elif place is not None:
            out.append(place)
        elif stem is not None:
            out.append(GLOSSARY[stem])
        elif folded not in ALBANIAN_WORDS:
            out.append(word)  # a name, a place or a number
    return " ".join(out)
