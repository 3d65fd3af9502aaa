"""The quote basket: quotes a visitor collects from answers, in order, with notes, for export.

Plain Python, no Streamlit: the app keeps one immutable `Basket` in st.session_state and
replaces it with what each operation returns (`basket = basket.add(...)`).

A quote is never changed behind the visitor's back. It may be edited on purpose; an edit
that no longer matches the source passage word for word leaves the item unverified
(`item.verified` is False) and every export says so.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Iterable

from index.records import Passage

from index.quotes.citations import Citation

if TYPE_CHECKING:  # only for annotations: the basket needs no store or search code at run time
    from index.retrieval.search import Hit
    from index.store.embedded import ReportInfo


class BasketError(ValueError):
    """Base class: an operation on the basket that cannot be done as asked."""


class ItemNotFound(BasketError):
    def __init__(self, item_id: int):
        self.item_id = item_id
        super().__init__(f"no item {item_id} in the quote basket; it may have been removed already "
                         "(refresh the page to see the basket as it is)")


class QuoteNotInPassage(BasketError):
    def __init__(self, quote: str, passage: Passage, start: int | None):
        self.quote, self.passage_id, self.start = quote, passage.id, start
        where = "anywhere" if start is None else f"at offset {start}"
        super().__init__(f"the quote {quote!r} is not {where} in passage {passage.id}; add the passage "
                         "text (or a part of it) as it is, and edit the quote afterwards if needed")


class EmptyQuote(BasketError):
    def __init__(self, item_id: int | None = None):
        self.item_id = item_id
        if item_id is None:
            super().__init__("a quote cannot be empty; select some words of the passage, or add it whole")
        else:
            super().__init__(f"the quote of item {item_id} cannot be empty; remove the item instead")


class DuplicateQuote(BasketError):
    def __init__(self, item_id: int, other_id: int):
        self.item_id, self.other_id = item_id, other_id
        super().__init__(f"item {other_id} already holds this quote of the same passage; "
                         f"remove item {item_id} or {other_id} instead")


class WrongReport(BasketError):
    def __init__(self, passage: Passage, report: str | None):
        self.passage_id, self.report = passage.id, report
        given = f"report {report!r}" if report else "no report"
        super().__init__(f"passage {passage.id} is from report {passage.report!r}, but {given} was given "
                         "for its provenance; pass that report's entry of the store manifest")


@dataclass(frozen=True)
class BasketItem:
    """One collected quote, where it comes from, and the visitor's note on it."""

    id: int  # stable within one basket, so widgets keep their state when items move
    passage: Passage
    quote: str
    quote_start: int  # offset of the quote in passage.text (where it was, if edited away)
    report_sha256: str  # the report file the passage was read from
    ingested_at: str
    note: str = ""

    @property
    def verified(self) -> bool:
        return quote_matches_source(self)

    @property
    def citation(self) -> Citation:
        return Citation.of(self.passage, self.quote)


def quote_matches_source(item: BasketItem) -> bool:
    """True when the quote is exactly the source passage's words at its offset."""
    start = item.quote_start
    return bool(item.quote) and start >= 0 and item.passage.text[start:start + len(item.quote)] == item.quote


@dataclass(frozen=True)
class Basket:
    """An ordered, duplicate-free list of quotes. Every operation returns a new basket."""

    items: tuple[BasketItem, ...] = ()
    next_id: int = 1

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def item(self, item_id: int) -> BasketItem:
        return self.items[self._index(item_id)]

    def find(self, passage_id: str, quote: str) -> BasketItem | None:
        """The item quoting `quote` from passage `passage_id`, if there is one."""
        return next((i for i in self.items if i.passage.id == passage_id and i.quote == quote), None)

    def add(self, passage: Passage, report: "ReportInfo", quote: str | None = None,
            start: int | None = None) -> "Basket":
        """Add `quote` (default: the whole passage) of `passage`; no change if it is already here.

        `report` is the passage's report in the store manifest: it dates and fingerprints the source.
        """
        if report.report != passage.report:
            raise WrongReport(passage, report.report)
        quote = passage.text if quote is None else quote
        if not quote.strip():
            raise EmptyQuote()
        start = _locate(passage, quote, start)
        if self.find(passage.id, quote):
            return self
        item = BasketItem(id=self.next_id, passage=passage, quote=quote, quote_start=start,
                          report_sha256=report.sha256, ingested_at=report.ingested_at)
        return Basket(self.items + (item,), self.next_id + 1)

    def add_hit(self, hit: "Hit", report: "ReportInfo") -> "Basket":
        """Add the quote a search hit highlighted (the whole passage when it highlighted nothing)."""
        if not hit.quote.strip():
            return self.add(hit.passage, report)
        return self.add(hit.passage, report, hit.quote, hit.quote_start)

    def remove(self, item_id: int) -> "Basket":
        index = self._index(item_id)
        return replace(self, items=self.items[:index] + self.items[index + 1:])

    def move_up(self, item_id: int) -> "Basket":
        return self._move(item_id, -1)

    def move_down(self, item_id: int) -> "Basket":
        return self._move(item_id, +1)

    def edit_note(self, item_id: int, note: str) -> "Basket":
        # Surrounding whitespace of a note is not content (text areas add trailing newlines).
        return self._replace(item_id, note=note.strip())

    def edit_quote(self, item_id: int, quote: str) -> "Basket":
        """Change the quoted words. The words are kept exactly as given; `verified` tells if they
        still match the source."""
        item = self.item(item_id)
        if not quote.strip():
            raise EmptyQuote(item_id)
        other = self.find(item.passage.id, quote)
        if other and other.id != item_id:
            raise DuplicateQuote(item_id, other.id)
        start = _nearest(item.passage.text, quote, item.quote_start)
        return self._replace(item_id, quote=quote, quote_start=item.quote_start if start is None else start)

    def _index(self, item_id: int) -> int:
        for index, item in enumerate(self.items):
            if item.id == item_id:
                return index
        raise ItemNotFound(item_id)

    def _move(self, item_id: int, step: int) -> "Basket":
        index = self._index(item_id)
        target = min(max(index + step, 0), len(self.items) - 1)
        items = list(self.items)
        items.insert(target, items.pop(index))
        return replace(self, items=tuple(items))

    def _replace(self, item_id: int, **changes) -> "Basket":
        index = self._index(item_id)
        items = list(self.items)
        items[index] = replace(items[index], **changes)
        return replace(self, items=tuple(items))


def items_from_hits(hits: Iterable["Hit"], reports: Iterable["ReportInfo"]) -> tuple[BasketItem, ...]:
    """The quotes of one answer as basket items, so an answer exports the same way a basket does.

    `reports` is the store manifest's reports; each hit's report must be among them.
    """
    by_name = {r.report: r for r in reports}
    basket = Basket()
    for hit in hits:
        report = by_name.get(hit.passage.report)
        if report is None:
            raise WrongReport(hit.passage, None)
        basket = basket.add_hit(hit, report)
    return basket.items


def _locate(passage: Passage, quote: str, start: int | None) -> int:
    """Where `quote` is in the passage; raises unless it is there (at `start`, when given)."""
    found = passage.text.find(quote) if start is None else start
    if found < 0 or passage.text[found:found + len(quote)] != quote:
        raise QuoteNotInPassage(quote, passage, start)
    return found


def _nearest(text: str, quote: str, near: int) -> int | None:
    """The occurrence of `quote` in `text` closest to offset `near`, or None."""
    best = None
    found = text.find(quote)
    while found >= 0:
        if best is None or abs(found - near) < abs(best - near):
            best = found
        found = text.find(quote, found + 1)
    return best
