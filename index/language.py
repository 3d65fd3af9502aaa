"""Which language a passage of a report is written in: English ("en") or Albanian ("sq"),
and a small Albanian→English vocabulary of the reports' subject.

The detector is small and dependency-free: it counts function words that belong to one
language and not the other, and words with the Albanian letters ë and ç. Names and places
(Kukës, Tiranë) carry those letters in English text too, so a passage is Albanian only when
its Albanian function words outnumber its English ones as well.

The vocabulary lets BM25 index an Albanian passage under English words too ("strehë" →
shelter), so English questions, and Albanian ones read through their English gloss, meet
Albanian passages lexically, not only through the multilingual model.
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


# Folded Albanian stems → English words. A word takes the longest stem it starts with.
ALBANIAN_TO_ENGLISH: dict[str, str] = {
    "komitet": "committee", "rajonal": "regional", "trafik": "trafficking", "qenie": "beings",
    "njerez": "human people", "viktim": "victims", "femij": "children", "grua": "women", "gra": "women",
    "vajz": "girls", "djem": "boys", "prind": "parents", "familj": "families", "shkoll": "schools",
    "nxenes": "pupils students", "mesues": "teachers", "student": "students", "polic": "police",
    "oficer": "officers", "prokuror": "prosecutors", "gjyq": "court judges", "trajn": "trained training",
    "punonjes": "workers staff", "social": "social", "sherbim": "services", "shendet": "health",
    "streh": "shelter", "shtret": "beds", "perkohshm": "temporary", "afatgjat": "long-term",
    "linj": "line hotline", "telefon": "telephone hotline", "falas": "free", "thirrj": "calls",
    "mori": "received", "referu": "referred referral", "dyshuar": "suspected", "rast": "cases",
    "fushat": "campaign", "ndergjegjes": "awareness", "fletepalosj": "flyers leaflets", "poster": "posters",
    "takim": "meetings", "mblidh": "meets meeting", "mblodh": "met meeting", "muaj": "months", "vit": "year",
    "plan": "plan", "veprim": "action actions", "buxhet": "budget", "fond": "funds funding",
    "mbrojtj": "protection", "mbro": "protect", "identifik": "identification identify", "hersh": "early",
    "raport": "report reports", "keshill": "council", "qark": "qark region", "prefektur": "prefecture",
    "bashki": "municipality", "komun": "communes", "kufi": "border", "emigrim": "emigration migration",
    "migrim": "migration", "paligjshem": "illegal", "riintegr": "reintegration", "integr": "integration",
    "punesim": "employment", "pune": "work jobs", "gjet": "found", "kurs": "courses",
    "profesional": "vocational professional", "psikolog": "psychological", "keshillim": "counselling",
    "ligj": "legal law", "ndihm": "help assistance", "bashkepun": "cooperation", "bashkerend": "coordinates",
    "koordin": "coordination", "organizat": "organisations", "jofitimprurese": "ngos non-profit",
    "institucion": "institutions", "detyr": "tasks", "material": "materials", "rrezik": "risk",
    "vones": "late delay", "larget": "remote", "perhershem": "permanent", "kerk": "asked requested",
    "mungese": "lack shortage", "kryesor": "main", "pjesemarres": "participants", "diskutim": "discussion",
    "prezant": "presentation presented", "konferenc": "conference", "vjetor": "annual", "hapi": "opened",
    "hap": "open", "ofr": "offers provides", "ndergjegjesim": "awareness", "rikthe": "return",
    "jet": "life", "komunitet": "community", "matshm": "measurable", "zyr": "office",
}
_GLOSS_STEMS = sorted(ALBANIAN_TO_ENGLISH, key=len, reverse=True)
MIN_GLOSS_STEM = 3


def english_gloss(folded_word: str) -> str | None:
    """The English words for a folded Albanian word, if the vocabulary knows it."""
    stem = next((s for s in _GLOSS_STEMS if folded_word.startswith(s) and len(s) >= MIN_GLOSS_STEM), None)
    return ALBANIAN_TO_ENGLISH[stem] if stem is not None else None
