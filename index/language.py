"""Which language a passage of a report is written in: English ("en") or Albanian ("sq").

Small and dependency-free: it counts function words that belong to one language and not
the other, and words with the Albanian letters ë and ç. Names and places (Kukës, Tiranë)
carry those letters in English text too, so a passage is Albanian only when its Albanian
function words outnumber its English ones as well.
"""

from __future__ import annotations

import re

ENGLISH = "en"
ALBANIAN = "sq"
LANGUAGE_NAMES = {ENGLISH: "English", ALBANIAN: "Albanian"}
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# Frequent Albanian words that are not English words ("me", "i", "a" are both, so they are left out).
ALBANIAN_WORDS = frozenset(
    "dhe të te në ne për per një nje që qe nga është eshte janë jane ishte ishin u se si ka kanë kane "
    "nuk por ose edhe ky kjo këtë kete këto keto ato ai ajo tij saj tyre cila cili cilat cilët mbi nën "
    "ndër ndaj pas para deri prej tek kur ku pse sa kush çfarë cfare gjithë gjithashtu duhet mund "
    "shumë shume më pak tjetër tjera tjerë disa çdo cdo pasi sepse nëse nese kundër kunder gjatë gjate "
    "midis rreth lidhje mes sipas përmes permes bëjnë bëhet kemi keni jemi jeni".split())
ENGLISH_WORDS = frozenset(
    "the of and to in is are was were for with that this these those on by as from be been have has had "
    "it its or an at which who will would should can could not but their they there than also into "
    "about after before between during such other more most some any each all our we you he she".split())
ALBANIAN_LETTERS = frozenset("ëçË Ç".replace(" ", ""))
# Below this many telling words the text is too short to judge; it is taken as English.
MIN_EVIDENCE = 2


def detect_language(text: str) -> str:
    """'sq' when the text reads as Albanian, else 'en'."""
    words = [w.casefold() for w in WORD.findall(text)]
    albanian = sum(w in ALBANIAN_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    lettered = sum(any(c in ALBANIAN_LETTERS for c in w) for w in words)
    if albanian + lettered < MIN_EVIDENCE:
        return ENGLISH
    return ALBANIAN if albanian > english and albanian + lettered > 2 * english else ENGLISH
