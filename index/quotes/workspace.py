"""Each user's work that must survive a reload or a server restart: the conversation and named baskets.

Kept in one SQLite file in the index directory (`workspace.sqlite`), as JSON rows (no pickle).
Plain Python, no Streamlit: the app opens a `Workspace` for the signed-in user and calls it.

    ws = Workspace.open(index_dir, user="local")
    ws.add_answer(answer)                 # the conversation grows
    ws.answers()                          # … and comes back after a restart
    basket_id = ws.create_basket("Proposal for the shelter")
    ws.save_basket(basket_id, basket)     # a Basket (index.quotes.basket), items in order

A saved quote keeps its report's sha256, the passage (id, text, page) and the quote's offset;
`item_status` compares it with the reports indexed now, so a quote whose report was replaced or
removed is shown as stale instead of being silently changed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from index.records import Passage

from index.quotes.basket import Basket, BasketItem

if TYPE_CHECKING:
    from index.retrieval.search import Answer
    from index.store.embedded import ReportInfo

WORKSPACE_FILE = "workspace.sqlite"
SCHEMA_VERSION = 1
LOCAL_USER = "local"  # the one user of a laptop install (no login, no proxy header)
DEFAULT_BASKET = "My quotes"
BUSY_TIMEOUT_S = 10.0  # another session writing: wait this long before giving up
MAX_NAME_CHARS = 120

# Why a saved quote may no longer be what the index holds.
CURRENT, REPLACED, REMOVED = "current", "replaced", "removed"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY, user TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS answers (
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (conversation_id, position));
CREATE TABLE IF NOT EXISTS baskets (
    id INTEGER PRIMARY KEY, user TEXT NOT NULL, name TEXT NOT NULL, created_at TEXT NOT NULL,
    UNIQUE (user, name));
CREATE TABLE IF NOT EXISTS basket_items (
    basket_id INTEGER NOT NULL REFERENCES baskets(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, item_id INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (basket_id, item_id));
CREATE TABLE IF NOT EXISTS user_state (
    user TEXT PRIMARY KEY, basket_id INTEGER, conversation_id INTEGER);
"""


class WorkspaceError(ValueError):
    """Base class: a workspace operation that cannot be done as asked."""


class BasketNameTaken(WorkspaceError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"you already have a basket named {name!r}; choose another name")


class BadBasketName(WorkspaceError):
    def __init__(self, name: str):
        self.name = name
        super().__init__(f"a basket needs a name of 1 to {MAX_NAME_CHARS} characters (got {name!r})")


class UnknownBasket(WorkspaceError):
    def __init__(self, basket_id: int):
        self.basket_id = basket_id
        super().__init__(f"basket {basket_id} does not exist (it may have been deleted in another tab); "
                         "reload the page")


class WorkspaceUnreadable(WorkspaceError):
    def __init__(self, path: Path, detail: str):
        self.path = path
        super().__init__(f"the saved work in {path} cannot be read ({detail}); move the file aside "
                         "to start afresh, the index itself is not affected")


_READY: set[Path] = set()  # workspace files whose tables exist (checked once per process)


@dataclass(frozen=True)
class BasketInfo:
    id: int
    name: str
    items: int


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class Workspace:
    """One user's conversation and baskets in the index directory's SQLite file."""

    def __init__(self, path: Path, user: str):
        self.path = Path(path)
        self.user = user or LOCAL_USER

    @classmethod
    def open(cls, index_dir: Path | str, user: str = LOCAL_USER) -> "Workspace":
        index_dir = Path(index_dir)
        index_dir.mkdir(parents=True, exist_ok=True)
        workspace = cls(index_dir / WORKSPACE_FILE, user)
        if workspace.path not in _READY or not workspace.path.exists():  # once per file and process
            with workspace._connect() as db:
                db.executescript(SCHEMA)
                db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            _READY.add(workspace.path)
        return workspace

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A short-lived connection in one transaction: sessions are threads, so none is shared."""
        try:
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                with db:
                    yield db
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            raise WorkspaceUnreadable(self.path, str(exc)) from exc

    def _state(self, db: sqlite3.Connection) -> tuple[int | None, int | None]:
        row = db.execute("SELECT basket_id, conversation_id FROM user_state WHERE user = ?",
                         (self.user,)).fetchone()
        return (row[0], row[1]) if row else (None, None)

    def _set_state(self, db: sqlite3.Connection, **changes) -> None:
        basket_id, conversation_id = self._state(db)
        basket_id = changes.get("basket_id", basket_id)
        conversation_id = changes.get("conversation_id", conversation_id)
        db.execute("INSERT OR REPLACE INTO user_state VALUES (?, ?, ?)", (self.user, basket_id, conversation_id))

    # ------------------------------------------------------------ the conversation

    def conversation_id(self) -> int:
        """The user's current conversation, started if there is none."""
        with self._connect() as db:
            _, conversation = self._state(db)
            if conversation is None:
                conversation = db.execute("INSERT INTO conversations (user, created_at) VALUES (?, ?)",
                                          (self.user, _now())).lastrowid
                self._set_state(db, conversation_id=conversation)
            return conversation

    def answers(self) -> list["Answer"]:
        conversation = self.conversation_id()
        with self._connect() as db:
            rows = db.execute("SELECT data FROM answers WHERE conversation_id = ? ORDER BY position",
                              (conversation,)).fetchall()
        return [answer_from_json(json.loads(data)) for (data,) in rows]

    def add_answer(self, answer: "Answer") -> None:
        conversation = self.conversation_id()
        with self._connect() as db:
            (position,) = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM answers "
                                     "WHERE conversation_id = ?", (conversation,)).fetchone()
            db.execute("INSERT INTO answers VALUES (?, ?, ?)",
                       (conversation, position, json.dumps(answer_to_json(answer), ensure_ascii=False)))

    def new_conversation(self) -> None:
        """Start afresh; the old conversation is kept in the file but no longer shown."""
        with self._connect() as db:
            conversation = db.execute("INSERT INTO conversations (user, created_at) VALUES (?, ?)",
                                      (self.user, _now())).lastrowid
            self._set_state(db, conversation_id=conversation)

    # ------------------------------------------------------------ baskets

    def baskets(self) -> list[BasketInfo]:
        """The user's baskets, oldest first; a first one is made when there is none."""
        with self._connect() as db:
            rows = self._basket_rows(db)
            if not rows:
                db.execute("INSERT INTO baskets (user, name, created_at) VALUES (?, ?, ?)",
                           (self.user, DEFAULT_BASKET, _now()))
                rows = self._basket_rows(db)
        return [BasketInfo(*row) for row in rows]

    def _basket_rows(self, db: sqlite3.Connection) -> list[tuple]:
        return db.execute("SELECT b.id, b.name, COUNT(i.item_id) FROM baskets b "
                          "LEFT JOIN basket_items i ON i.basket_id = b.id WHERE b.user = ? "
                          "GROUP BY b.id ORDER BY b.id", (self.user,)).fetchall()

    def current_basket(self) -> BasketInfo:
        baskets = self.baskets()
        with self._connect() as db:
            chosen, _ = self._state(db)
        return next((b for b in baskets if b.id == chosen), baskets[0])

    def choose_basket(self, basket_id: int) -> None:
        with self._connect() as db:
            self._owned(db, basket_id)
            self._set_state(db, basket_id=basket_id)

    def create_basket(self, name: str) -> int:
        name = _clean_name(name)
        with self._connect() as db:
            try:
                basket_id = db.execute("INSERT INTO baskets (user, name, created_at) VALUES (?, ?, ?)",
                                       (self.user, name, _now())).lastrowid
            except sqlite3.IntegrityError:
                raise BasketNameTaken(name) from None
            self._set_state(db, basket_id=basket_id)
        return basket_id

    def rename_basket(self, basket_id: int, name: str) -> None:
        name = _clean_name(name)
        with self._connect() as db:
            self._owned(db, basket_id)
            try:
                db.execute("UPDATE baskets SET name = ? WHERE id = ?", (name, basket_id))
            except sqlite3.IntegrityError:
                raise BasketNameTaken(name) from None

    def delete_basket(self, basket_id: int) -> None:
        with self._connect() as db:
            self._owned(db, basket_id)
            db.execute("DELETE FROM baskets WHERE id = ?", (basket_id,))

    def load_basket(self, basket_id: int) -> Basket:
        with self._connect() as db:
            self._owned(db, basket_id)
            rows = db.execute("SELECT item_id, data FROM basket_items WHERE basket_id = ? ORDER BY position",
                              (basket_id,)).fetchall()
        items = tuple(item_from_json(item_id, json.loads(data)) for item_id, data in rows)
        return Basket(items, max((i.id for i in items), default=0) + 1)

    def save_basket(self, basket_id: int, basket: Basket) -> None:
        """Make the stored basket exactly `basket` (its items, in its order)."""
        with self._connect() as db:
            self._owned(db, basket_id)
            db.execute("DELETE FROM basket_items WHERE basket_id = ?", (basket_id,))
            db.executemany("INSERT INTO basket_items VALUES (?, ?, ?, ?)",
                           [(basket_id, position, item.id, json.dumps(item_to_json(item), ensure_ascii=False))
                            for position, item in enumerate(basket.items)])

    def _owned(self, db: sqlite3.Connection, basket_id: int) -> None:
        row = db.execute("SELECT 1 FROM baskets WHERE id = ? AND user = ?", (basket_id, self.user)).fetchone()
        if row is None:
            raise UnknownBasket(basket_id)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > MAX_NAME_CHARS:
        raise BadBasketName(name)
    return name


# ---------------------------------------------------------------- stale quotes

def item_status(item: BasketItem, reports: Iterable["ReportInfo"]) -> str:
    """CURRENT when the quote's report is indexed as it was saved; REPLACED when a changed file of
    the same name replaced it; REMOVED when the report is no longer indexed."""
    by_name = {r.report: r for r in reports}
    report = by_name.get(item.passage.report)
    if report is None:
        return REMOVED
    return CURRENT if report.sha256 == item.report_sha256 else REPLACED


STATUS_TEXT = {
    REPLACED: "Stale: this report has been replaced by a changed file since the quote was saved; "
              "the quote is kept as it was. Check it against the new version.",
    REMOVED: "Stale: this report is no longer in the index; the quote is kept as it was saved.",
}


# ---------------------------------------------------------------- JSON

def item_to_json(item: BasketItem) -> dict:
    return {"passage": item.passage.to_json(), "quote": item.quote, "quote_start": item.quote_start,
            "report_sha256": item.report_sha256, "ingested_at": item.ingested_at, "note": item.note}


def item_from_json(item_id: int, data: dict) -> BasketItem:
    return BasketItem(id=item_id, passage=Passage.from_json(data["passage"]), quote=data["quote"],
                      quote_start=int(data["quote_start"]), report_sha256=data["report_sha256"],
                      ingested_at=data["ingested_at"], note=data.get("note", ""))


def answer_to_json(answer: "Answer") -> dict:
    f = answer.filters
    return {"question": answer.question, "answered": answer.answered, "interpreted": answer.interpreted,
            "filters": {"reports": list(f.reports), "year": f.year, "section": f.section,
                        "organisation": f.organisation},
            "hits": [{"rank": h.rank, "score": float(h.score), "passage": h.passage.to_json(), "quote": h.quote,
                      "quote_start": h.quote_start, "similarity": float(h.similarity)} for h in answer.hits]}


def answer_from_json(data: dict) -> "Answer":
    from index.retrieval.search import Answer, Filters, Hit

    f = data.get("filters") or {}
    filters = Filters(reports=tuple(f.get("reports") or ()), year=f.get("year"), section=f.get("section"),
                      organisation=f.get("organisation"))
    hits = tuple(Hit(rank=h["rank"], score=h["score"], passage=Passage.from_json(h["passage"]), quote=h["quote"],
                     quote_start=h["quote_start"], similarity=h["similarity"]) for h in data["hits"])
    return Answer(data["question"], data["answered"], hits, data.get("interpreted", ""), filters)
