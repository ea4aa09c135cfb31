"""The state of a search as URL parameters: parsed once, turned back into links.

Every state of the results page (query, filters, date range, sort, page,
glossary expansion) is a plain GET URL, so it can be bookmarked and shared;
the HTML page, the JSON API and the exports read the same parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from indexer.errors import SearchQueryError
from indexer.service import FACETS, SORTS, Filters

# Bounds on filter parameters: enough for any real use, small enough that a
# crafted URL cannot make a query of thousands of clauses.
MAX_VALUES_PER_FILTER = 20
MAX_VALUE_CHARS = 100
MAX_PAGE = 10_000
ISO_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


@dataclass(frozen=True)
class SearchParams:
    """What the user asked for, validated."""

    q: str = ""
    filters: Filters = field(default_factory=Filters)
    page: int = 1
    sort: str = "relevance"
    expand: bool | None = None     # None: the configured default

    @classmethod
    def from_args(cls, args) -> "SearchParams":
        """Read request.args; raise SearchQueryError (shown as a 400 page) for bad values."""
        values = {}
        for name in FACETS:
            raw = [v.strip() for v in args.getlist(name) if v.strip()]
            if len(raw) > MAX_VALUES_PER_FILTER or any(len(v) > MAX_VALUE_CHARS for v in raw):
                raise SearchQueryError(f"Too many or too long values for the filter {name!r}.", "bad_filter",
                                       name=name)
            values[name] = tuple(dict.fromkeys(raw))
        for name, key in (("date_from", "from"), ("date_to", "to")):
            value = args.get(key, "").strip()
            if value and not ISO_PARTIAL_DATE.match(value):
                raise SearchQueryError(
                    f"The date {value[:20]!r} in {key!r} is not of the form YYYY, YYYY-MM or YYYY-MM-DD.",
                    "bad_date", field=key)
            values[name] = value
        # A range typed the wrong way round (from 2012 to 2010) means the years between: swapped, not empty.
        if values["date_from"] and values["date_to"] and values["date_from"] > values["date_to"]:
            values["date_from"], values["date_to"] = values["date_to"], values["date_from"]
        page_text = args.get("page", "1").strip() or "1"
        if not (page_text.isascii() and page_text.isdigit() and len(page_text) <= 6
                and 1 <= int(page_text) <= MAX_PAGE):
            raise SearchQueryError(f"The result page must be a number from 1 to {MAX_PAGE}.", "bad_page",
                                   limit=MAX_PAGE)
        sort = args.get("sort", "relevance").strip() or "relevance"
        if sort not in SORTS:
            raise SearchQueryError(f"Unknown sort order: use one of {', '.join(SORTS)}.", "bad_sort",
                                   sort=sort[:20], allowed=", ".join(SORTS))
        return cls(q=args.get("q", "").strip(), filters=Filters(**values), page=int(page_text),
                   sort=sort, expand=parse_bool(args.get("expand")))

    def to_args(self, **changes) -> dict:
        """URL parameters for this state with CHANGES applied (filters changed: back to page 1)."""
        state = replace(self, **changes) if changes else self
        if "filters" in changes and "page" not in changes:
            state = replace(state, page=1)
        args: dict = {}
        if state.q:
            args["q"] = state.q
        for name in FACETS:
            if getattr(state.filters, name):
                args[name] = list(getattr(state.filters, name))
        if state.filters.date_from:
            args["from"] = state.filters.date_from
        if state.filters.date_to:
            args["to"] = state.filters.date_to
        if state.sort != "relevance":
            args["sort"] = state.sort
        if state.expand is not None:
            args["expand"] = "1" if state.expand else "0"
        if state.page != 1:
            args["page"] = state.page
        return args

    def toggled(self, name: str, value: str) -> dict:
        """URL parameters with filter NAME=VALUE added, or removed if it is on."""
        if name in ("date_from", "date_to"):
            return self.to_args(filters=replace(self.filters, **{name: ""}))
        current = getattr(self.filters, name)
        new = tuple(v for v in current if v != value) if value in current else current + (value,)
        return self.to_args(filters=replace(self.filters, **{name: new}))

    def without_filters(self) -> dict:
        """URL parameters of the same search with every filter removed."""
        return self.to_args(filters=Filters())

    def is_on(self, name: str, value: str) -> bool:
        """Whether filter NAME=VALUE is active."""
        return value in getattr(self.filters, name)

    @property
    def has_filters(self) -> bool:
        """Whether any filter or date bound is active."""
        return bool(self.filters.active())

    def hidden_fields(self, exclude: tuple[str, ...] = ()) -> list[tuple[str, str]]:
        """(name, value) pairs of this state, for the hidden inputs of a form that changes part of it."""
        pairs = []
        for name, value in self.to_args(page=1).items():
            if name in exclude:
                continue
            for v in value if isinstance(value, list) else [value]:
                pairs.append((name, str(v)))
        return pairs


def parse_bool(value: str | None) -> bool | None:
    """"1"/"true"/"on"/"yes" -> True, "0"/"false"/"off"/"no" -> False, anything else -> None."""
    if value is None:
        return None
    value = value.strip().lower()
    if value in ("1", "true", "on", "yes"):
        return True
    if value in ("0", "false", "off", "no"):
        return False
    return None


def page_window(page: int, pages: int, around: int = 2) -> list[int | None]:
    """Page numbers to show in the pager: first, last and AROUND either side of PAGE; None for a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - out[-1] > 1:
            out.append(None)
        out.append(n)
    return out
