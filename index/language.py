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
# The one Albanian vocabulary of the project: the ingest glosses Albanian passages with it and
# the search glosses Albanian questions (index.retrieval.query). A general vocabulary of
# anti-trafficking reports and of the words around them (work, school, family, travel, the
# internet), not a list of the questions' words; names, places and numbers stay as written.
ALBANIAN_TO_ENGLISH: dict[str, str] = {
    "abuzim": "abuse", "perfshi": "include includes", "bej": "make makes", "ndaj": "towards against", "administrator": "administrators", "adoleshent": "teen teens adolescents",
    "afatgjat": "long-term", "afrik": "africa african", "agjenci": "agency", "aktiv": "active",
    "aktivitet": "activities", "alkool": "alcohol", "anetar": "members", "ankth": "anxiety",
    "anonim": "anonymous", "aplikacion": "app apps", "ardhur": "income arrived", "arm": "weapons armed",
    "armatos": "armed", "arsim": "education", "automjet": "vehicle car",
    "bashkepun": "cooperation collaboration collaborate", "bashkerend": "coordinates",
    "bashki": "municipality", "besim": "trust", "besuar": "trusted", "biznes": "business",
    "bler": "purchases buy", "blerj": "purchases", "borxh": "debt", "boshll": "gaps", "bote": "world global",
    "brenda": "inside within", "bujqesi": "agriculture", "burg": "prison", "buxhet": "budget",
    "cenueshm": "vulnerable", "cilesi": "quality", "copez": "fragmented", "dashur": "boyfriend girlfriend",
    "debat": "debates", "denim": "sentence sentenced", "denonc": "report reported", "denu": "sentenced",
    "departament": "department", "detyr": "tasks", "detyrim": "forced", "detyru": "forced",
    "dhun": "violence", "diskutim": "discussion", "djem": "boys", "dokument": "documents",
    "donator": "donors", "drejt": "rights", "droge": "drugs", "duhet": "should", "dyqan": "store shop",
    "dyshim": "suspicion suspect", "dyshoj": "suspect", "dyshuar": "suspected", "edukim": "education",
    "efikasitet": "efficiency", "ekonomik": "economic", "element": "elements", "emergjenc": "emergency",
    "emigrim": "emigration migration", "emocional": "emotional", "evrop": "europe", "faktor": "factors",
    "falas": "free", "fals": "false fake", "familj": "families family", "fatalitet": "fatalities deaths",
    "femij": "children child", "femr": "women females", "fetar": "religious", "financ": "financial funding",
    "financiar": "financial", "fizik": "physical", "fletepalosj": "flyers leaflets", "fol": "spoke said",
    "fond": "funds funding", "forc": "force forced", "foto": "photos", "frik": "fear", "fshat": "villages",
    "fshatra": "villages", "fushat": "campaign", "genjeshtr": "lies", "gjate": "during", "gjet": "found",
    "gjuh": "language", "gjykat": "court", "gjyq": "court judges", "gjyqtar": "judges",
    "gjysh": "grandparents", "global": "global", "gra": "women", "grant": "grant grants", "grua": "women",
    "grup": "group groups", "hap": "open", "hapi": "opened", "hersh": "early", "hetim": "investigation",
    "histori": "story stories", "hoteleri": "hospitality", "hotline": "hotline",
    "identifik": "identification identify", "industri": "industries industry", "infermier": "nurse",
    "informacion": "information", "institucion": "institutions", "integr": "integration",
    "internet": "internet online", "izolim": "isolation isolated", "jashte": "outside", "jet": "life",
    "jofitimprurese": "ngos non-profit", "kapacitet": "capacity", "kart": "cards card",
    "keqkupt": "misconceptions misunderstanding", "kercen": "threats threatened", "kerk": "asked requested",
    "kerkes": "request demand", "keshill": "council", "keshillim": "counselling",
    "keshilltar": "counselor counsellor", "klas": "class classmates", "klient": "customer customers",
    "komitet": "committee committees", "kompani": "company companies", "komun": "communes commune",
    "komunitet": "community", "konferenc": "conference", "konflikt": "conflict", "kontinent": "continent",
    "kontrat": "contract contracts", "kontroll": "control controlling", "koordin": "coordination",
    "krim": "crime criminal", "kriminal": "criminal", "kryesor": "main", "kthim": "return",
    "kuad": "framework", "kufi": "border", "kujdes": "care careful", "kujdestar": "caretakers caregivers",
    "kunder": "against", "kurs": "courses", "kushte": "conditions", "larget": "remote",
    "largu": "left leave", "leviz": "move moving", "lidhj": "relationship relationships",
    "ligj": "legal law", "ligjzbatues": "law enforcement", "linj": "line hotline", "lodhj": "fatigue",
    "lojer": "games", "lokal": "local", "luft": "war conflict", "lyp": "begging", "makin": "car vehicle",
    "malor": "mountain", "manual": "manuals", "martes": "marriage", "mashtr": "deception fraud deceived",
    "material": "materials", "matshm": "measurable", "mbeshtet": "support supported", "mbeshtetj": "support",
    "mbikeqyr": "supervision monitor", "mbivendos": "overlap", "mblidh": "meets meeting",
    "mblodh": "met meeting", "mbro": "protect", "mbrojtj": "protection", "media": "media",
    "mekaniz": "mechanism", "mendor": "mental", "mesazh": "messages", "meshk": "men males",
    "mesim": "teaching lessons", "mesues": "teachers", "metodologji": "methodology", "midis": "between",
    "migrim": "migration", "mina": "mine", "miner": "mines mining", "ministri": "ministry",
    "mit": "myth myths", "mjek": "doctor", "mori": "received", "mosh": "age", "moshatar": "peers",
    "muaj": "months", "mundesi": "opportunity opportunities", "munges": "absences lack",
    "mungese": "lack shortage", "ndergjegjes": "awareness", "ndergjegjesim": "awareness",
    "ndermjetes": "mediation", "ndertim": "building", "ndihm": "help assistance", "ndihme": "help aid",
    "ndjenj": "feelings", "ndjeshm": "sensitivity", "nevoj": "needs", "njerez": "human people",
    "njerezor": "human", "njesi": "unit", "numr": "number", "nxenes": "pupils students",
    "objektiv": "objectives", "ofert": "offer offers", "oferte": "offer", "oficer": "officers",
    "ofr": "offers provides", "ojf": "ngos", "online": "online", "orar": "hours schedule", "organ": "organs",
    "organizat": "organisations organizations", "pag": "pay paid wages", "pajtim": "reconciliation",
    "paligjshem": "illegal", "partner": "partner", "pasaport": "passport", "pastreh": "homeless",
    "penges": "barrier barriers", "perdor": "use used", "perendim": "western", "perfaqes": "representatives",
    "perform": "performance", "pergjegjesi": "responsibilities accountability", "perhershem": "permanent",
    "perkohshm": "temporary", "perkthy": "interpreter translator", "perqind": "percent share",
    "pese": "five", "pjesemarres": "participants", "plag": "injuries", "plan": "plan plans",
    "polic": "police", "pornografi": "pornography", "poster": "posters", "praktik": "internship practice",
    "prefekt": "prefect", "prefektur": "prefecture prefect's office", "prekshem": "vulnerable",
    "prekshm": "vulnerable", "premt": "promise promised", "prezant": "presentation presented",
    "prind": "parents", "profesional": "vocational professional", "program": "program", "projekt": "project",
    "prokuror": "prosecutors", "pronar": "owner owners", "prostitu": "prostitution",
    "psiko": "psycho-social", "psikolog": "psychological", "publik": "public", "pune": "work jobs",
    "punedhenes": "employers employer", "punesim": "employment",
    "punonjes": "workers staff employees employee", "pyetj": "questions", "qark": "qark region",
    "qellim": "objectives goals", "qendror": "central", "qenie": "beings", "qeveri": "government",
    "qytet": "city cities", "rajon": "region", "rajonal": "regional", "raport": "report reports",
    "raportim": "reporting", "rast": "cases", "realitet": "reality", "referim": "referral",
    "referu": "referred referral", "rekrut": "recruitment recruited recruit", "riintegr": "reintegration",
    "rikthe": "return", "rini": "youth young", "rinj": "young youth", "rol": "role", "rreze": "network",
    "rrezik": "risk", "rrezikshem": "dangerous", "rritur": "adult adults",
    "rrjet": "networking network networks social media", "rroge": "salary wages", "rrug": "routes",
    "sekstorsion": "sextortion", "seksual": "sexual", "semundj": "illness",
    "shantazh": "blackmail extortion", "shendet": "health", "shenj": "signs indicators",
    "sherbim": "services", "sherbime": "services", "shfrytez": "exploitation exploited",
    "shkakt": "caused cause", "shkoll": "schools school", "shok": "friends classmates",
    "shoqat": "association associations", "shperndan": "distributed", "shperndar": "distributed",
    "shpesh": "often frequently", "shpet": "rescued rescue", "shtepi": "home house",
    "shtet": "state states country", "shtreng": "coercion", "shtret": "beds", "sigur": "ensure",
    "siguri": "safety security", "sjellj": "behaviour behavior", "social": "social", "standard": "standards",
    "stigm": "stigma stigmatization", "streh": "shelter", "strehez": "shelter", "strehim": "housing shelter",
    "struktur": "structures", "student": "students", "sukses": "success successful",
    "takim": "meetings meeting", "tarif": "fee fees", "teknik": "techniques", "telefon": "telephone hotline",
    "thirr": "call", "thirrj": "calls", "trafik": "trafficking", "trajn": "trained training train",
    "tranzit": "transit", "tregti": "trade trafficking", "tregues": "indicators", "turp": "shame",
    "tutor": "guardian", "udhet": "travel", "udhezues": "guide", "universitet": "university",
    "ushtar": "soldiers military", "ushtarak": "military", "vajz": "girls", "varesi": "dependency addiction",
    "varfer": "poverty poor", "vdekj": "deaths", "vdiq": "died", "vend": "country countries place", "vendim": "decision", "vendos": "decide",
    "veprim": "action actions", "vezhg": "observe observed", "viktim": "victims", "vit": "year",
    "vjet": "years", "vjetor": "annual annually", "vleresim": "assessment assessments",
    "vones": "late delay", "vra": "killed", "vullnet": "voluntarism volunteers", "vullnetar": "volunteers",
    "zbatim": "enforcement implementation", "zbul": "detected discovered", "zgjedh": "chosen",
    "zhvendos": "move relocate", "zone": "area areas", "zyr": "office",
}
_GLOSS_STEMS = sorted(ALBANIAN_TO_ENGLISH, key=len, reverse=True)
MIN_GLOSS_STEM = 3


def english_gloss(folded_word: str) -> str | None:
    """The English words for a folded Albanian word, if the vocabulary knows it."""
    stem = next((s for s in _GLOSS_STEMS if folded_word.startswith(s) and len(s) >= MIN_GLOSS_STEM), None)
    return ALBANIAN_TO_ENGLISH[stem] if stem is not None else None


# Places as Albanian writes them (folded stems, any case ending: "Shqipërisë", "Kosovës") → their
# names in the English reports, so an Albanian question's places meet the reports' words and
# count as key terms there ("Republikën Demokratike të Kongos" → Republic Democratic Congo).
# Matched on capitalised words only ("Keni" opens a question, "Kenia" is Kenya), and only when
# what follows the stem is a case ending: "Indikatorët" is no India, "Azilkërkuesit" no Asia.
ALBANIAN_PLACE_NAMES: dict[str, str] = {
    # Albania and its neighbours, as the reports spell their towns
    "shqiperi": "Albania", "shqiptar": "Albanian", "tiran": "Tirana", "durres": "Durres", "vlor": "Vlora",
    "shkoder": "Shkodra", "shkodr": "Shkodra", "korc": "Korca", "elbasan": "Elbasan",
    "gjirokaster": "Gjirokastra", "gjirokastr": "Gjirokastra", "diber": "Diber", "dibr": "Diber",
    "tropoj": "Tropoja", "kukes": "Kukës", "has": "Has", "lezh": "Lezha", "fier": "Fier", "berat": "Berat",
    "pogradec": "Pogradec", "sarand": "Saranda", "puk": "Puka", "mirdit": "Mirdita", "kruj": "Kruja",
    "lushnj": "Lushnja", "kavaj": "Kavaja", "permet": "Permet", "tepelen": "Tepelena", "peshkopi": "Peshkopi",
    "bulqiz": "Bulqiza", "kurbin": "Kurbin", "librazhd": "Librazhd", "gramsh": "Gramsh", "delvin": "Delvina",
    "devoll": "Devoll", "kolonj": "Kolonja", "skrapar": "Skrapar", "shijak": "Shijak", "kucov": "Kucova",
    "kosov": "Kosovo", "serbi": "Serbia", "maqedoni": "Macedonia", "greqi": "Greece", "itali": "Italy",
    "ballkan": "Balkans", "slloveni": "Slovenia", "kroaci": "Croatia", "bosnj": "Bosnia",
    # Europe
    "gjermani": "Germany", "franc": "France", "britani": "Britain", "angli": "England", "zvicer": "Switzerland", "zvicr": "Switzerland",
    "belgjik": "Belgium", "holand": "Netherlands", "spanj": "Spain", "portugali": "Portugal", "austri": "Austria",
    "hungari": "Hungary", "rumani": "Romania", "bullgari": "Bulgaria", "moldavi": "Moldova", "ukrain": "Ukraine",
    "rusi": "Russia", "turqi": "Turkey", "poloni": "Poland", "suedi": "Sweden", "norvegji": "Norway",
    "danimark": "Denmark", "irland": "Ireland", "qipro": "Cyprus",
    # Africa
    "egjipt": "Egypt", "libi": "Libya", "tunizi": "Tunisia", "algjeri": "Algeria", "marok": "Morocco",
    "sudan": "Sudan", "etiopi": "Ethiopia", "eritre": "Eritrea", "somali": "Somalia", "kenia": "Kenya",
    "ugand": "Uganda", "tanzani": "Tanzania", "ruand": "Rwanda", "burundi": "Burundi", "kamerun": "Cameroon",
    "gana": "Ghana", "senegal": "Senegal", "nigeri": "Nigeria", "niger": "Niger", "cad": "Chad",
    "mozambik": "Mozambique", "zimbabve": "Zimbabwe", "zambi": "Zambia", "angol": "Angola", "kongo": "Congo",
    "madagaskar": "Madagascar", "mauritani": "Mauritania", "togo": "Togo", "benin": "Benin",
    "burkina": "Burkina Faso",
    # Asia and the Americas
    "kina": "China", "indi": "India", "pakistan": "Pakistan", "bangladesh": "Bangladesh",
    "afganistan": "Afghanistan", "siri": "Syria", "irak": "Iraq", "iran": "Iran", "jemen": "Yemen",
    "liban": "Lebanon", "izrael": "Israel", "jordani": "Jordan", "arabi": "Arabia", "filipin": "Philippines",
    "tajland": "Thailand", "japoni": "Japan", "kore": "Korea", "azi": "Asia", "amerik": "America",
    "shba": "United States", "meksik": "Mexico", "brazil": "Brazil", "kolumbi": "Colombia", "kanada": "Canada",
    # The words of compound names ("Afrika e Jugut", "Maqedonia e Veriut", "Ballkani Perëndimor")
    "republik": "Republic", "demokratik": "Democratic", "jugu": "South", "jugor": "Southern",
    "veri": "North", "verior": "Northern", "perendim": "West", "perendimor": "Western",
    "lindor": "Eastern", "qendror": "Central", "mbreteri": "Kingdom", "bashkuar": "United", "madh": "Great",
}
_PLACE_STEMS = sorted(ALBANIAN_PLACE_NAMES, key=len, reverse=True)
# What Albanian adds to a place's name, folded ("Shqipëri-së", "Kosov-ës", "Jugu-t", "Itali-në").
PLACE_ENDINGS = frozenset("""
    a e i u s t n es et en it in ut un se ne te ja je ve ves ise ine ite ia ie ive jes esit
""".split()) | {""}


def english_place_name(word: str, folded_word: str) -> str | None:
    """The English name of a capitalised Albanian place word (`folded_word` is it folded), if known."""
    if not word[:1].isupper():
        return None
    stem = next((s for s in _PLACE_STEMS if folded_word.startswith(s) and folded_word[len(s):] in PLACE_ENDINGS),
                None)
    return ALBANIAN_PLACE_NAMES[stem] if stem is not None else None
