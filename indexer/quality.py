"""Retrieval quality over a judged query set: recall@10, MRR@10, nDCG@10 and precision@10 per category.

The judged set (tests/quality/queries.toml) lists, for each query, the
documents that should come back. Results are whole documents (language
versions together), as the site shows them. Precision@10 is the share of the
documents returned in the top 10 that are judged relevant (for the
cross-language categories: that hold one of the query's accepted translations);
a query that returns nothing counts 0.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .config import Settings
from .errors import SearchQueryError
from .search import search

K = 10


@dataclass
class JudgedQuery:
    q: str
    category: str
    relevant: list[str]


@dataclass
class QueryOutcome:
    query: JudgedQuery
    returned: list[str]
    recall: float
    rr: float
    ndcg: float
    precision: float
    error: str = ""


@dataclass
class QualityReport:
    outcomes: list[QueryOutcome] = field(default_factory=list)

    def by_category(self) -> dict[str, dict[str, float]]:
        cats: dict[str, list[QueryOutcome]] = {}
        for o in self.outcomes:
            cats.setdefault(o.query.category, []).append(o)
        out = {name: _means(items) for name, items in sorted(cats.items())}
        out["overall"] = _means(self.outcomes)
        return out

    def misses(self) -> list[QueryOutcome]:
        return [o for o in self.outcomes if o.recall < 1.0 or o.rr < 1.0 or o.error]


def _means(items: list[QueryOutcome]) -> dict[str, float]:
    n = len(items) or 1
    return {
        "queries": len(items),
        "recall@10": round(sum(o.recall for o in items) / n, 4),
        "mrr@10": round(sum(o.rr for o in items) / n, 4),
        "ndcg@10": round(sum(o.ndcg for o in items) / n, 4),
        "precision@10": round(sum(o.precision for o in items) / n, 4),
    }


def load_judgements(path: Path) -> list[JudgedQuery]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    return [JudgedQuery(q["q"], q["category"], list(q["relevant"])) for q in data.get("query", [])]


def score(returned: list[str], relevant: list[str]) -> tuple[float, float, float, float]:
    """recall@K (capped at K relevant), reciprocal rank@K, nDCG@K (binary relevance) and precision@K
    (of the documents returned, at most K) of one ranking."""
    top = returned[:K]
    rel = set(relevant)
    # Capped recall: with more than K relevant documents, a perfect top K counts as 1.
    recall = len(rel & set(top)) / min(len(rel), K) if rel else 1.0
    rr = next((1.0 / (i + 1) for i, d in enumerate(top) if d in rel), 0.0)
    dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(top) if d in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), K)))
    precision = len(rel & set(top)) / len(top) if top else (0.0 if rel else 1.0)
    return recall, rr, (dcg / ideal if ideal else 1.0), precision


def evaluate(searcher, settings: Settings, queries: list[JudgedQuery]) -> QualityReport:
    """Run every judged query through the same search the site uses."""
    report = QualityReport()
    for jq in queries:
        try:
            result = search(searcher, jq.q, settings, page_size=K)
            returned = [h.doc_id for h in result.hits]
            error = ""
        except SearchQueryError as exc:
            returned, error = [], str(exc)
        recall, rr, ndcg, precision = score(returned, jq.relevant)
        report.outcomes.append(QueryOutcome(jq, returned, recall, rr, ndcg, precision, error))
    return report


def format_report(report: QualityReport) -> str:
    lines = [f"{'category':<18}{'queries':>8}{'recall@10':>11}{'MRR@10':>9}{'nDCG@10':>9}{'P@10':>7}"]
    for name, m in report.by_category().items():
        lines.append(f"{name:<18}{m['queries']:>8}{m['recall@10']:>11.3f}{m['mrr@10']:>9.3f}{m['ndcg@10']:>9.3f}"
                     f"{m['precision@10']:>7.3f}")
    return "\n".join(lines)
