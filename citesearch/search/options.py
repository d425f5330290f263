"""How to rank: one frozen record that travels from the CLI or API to the ranking.

Every query-time default is defined here once (the fusion parameters' in ``fusion.py``).
A field left unset (``None``; for ``expand``, :data:`UNSET`, since ``expand=None`` means
"no feedback") means "the index's": the settings ``citesearch tune --save`` saved in it,
else what it was built with (its manifest) and the defaults here, filled in by
:meth:`SearchOptions.resolve`.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, fields, replace
from typing import Any

from ..errors import CitesearchError
from ..indexer.bm25 import BM25Params
from ..indexer.manifest import METHODS, Manifest, TunedSettings
from .expansion import RM3
from .fusion import FUSERS, LINEAR_WEIGHT, RRF_K

DEFAULT_FUSION = "rrf"
AGGREGATES = ("max", "sum", "mean")
DEFAULT_AGGREGATE = "max"
EXPAND_RUNS = ("all", "bm25")
"""Which runs rank the query expanded by RM3: ``all``, or only ``bm25``: the probabilistic
run (BM25, or hybrid's In_expC2 run; hybrid's TF-IDF run then ranks the original query)."""
HYBRID_WITH = ("dfr", "bm25")
"""What hybrid fuses TF-IDF with: ``dfr`` (In_expC2, ``indexer/dfr.py``; the default of an
index that stores its weights) or ``bm25`` (the default of one that does not)."""
DEFAULT_EXPAND_RUNS = "all"


class Unset(enum.Enum):
    """The value of ``SearchOptions.expand`` when it is not set (``None`` is "no feedback")."""

    UNSET = "unset"


UNSET = Unset.UNSET


class OptionError(CitesearchError, ValueError):
    """A search option has a value citesearch does not know."""


@dataclass(frozen=True)
class SearchOptions:
    method: str | None = None
    """``bm25``, ``tfidf`` or ``hybrid``; None: the index's default."""
    fusion: str | None = None
    """How hybrid combines its two rankings (see ``FUSERS``); None: the index's, else rrf."""
    bm25: BM25Params | None = None
    """BM25 parameters for this query; None: the index's."""
    expand: RM3 | None | Unset = UNSET
    """Pseudo-relevance feedback, or None: none; UNSET: the index's (none unless tuned)."""
    per_source: int | None = None
    """At most this many passages of one source in a result list."""
    aggregate: str | None = None
    """A document's score from its passages' (document-level ranking); None: the
    index's, else max."""
    explain: bool = False
    """Explain each result's score (see ``explain.py``)."""
    rrf_k: float | None = None
    """Reciprocal rank fusion's k; None: the index's, else ``fusion.RRF_K``."""
    linear_weight: float | None = None
    """Linear fusion's weight of BM25; None: the index's, else ``fusion.LINEAR_WEIGHT``."""
    expand_runs: str | None = None
    """Which runs rank the expanded query (see ``EXPAND_RUNS``; only hybrid has two):
    None: the index's, else all."""
    hybrid_with: str | None = None
    """The run hybrid fuses with TF-IDF (see ``HYBRID_WITH``): None: ``dfr`` if the index
    stores In_expC2 weights, else ``bm25``."""

    def __post_init__(self) -> None:
        _check("method", self.method, METHODS, none_ok=True)
        _check("fusion", self.fusion, tuple(FUSERS), none_ok=True)
        _check("aggregate", self.aggregate, AGGREGATES, none_ok=True)
        _check("expand_runs", self.expand_runs, EXPAND_RUNS, none_ok=True)
        _check("hybrid_with", self.hybrid_with, HYBRID_WITH, none_ok=True)
        if self.per_source is not None and self.per_source < 1:
            raise OptionError("per_source must be at least 1")
        if self.rrf_k is not None and not 0 <= self.rrf_k < math.inf:
            raise OptionError("rrf_k must be a finite number, at least 0")
        if self.linear_weight is not None and not 0 <= self.linear_weight <= 1:
            raise OptionError("linear_weight must be between 0 and 1")
        if not (self.expand is None or self.expand is UNSET or isinstance(self.expand, RM3)):
            raise OptionError(f"expand must be RM3 parameters or None, not {self.expand!r}")

    @property
    def fusion_parameter(self) -> float:
        """The parameter of the fusion (RRF's k or the linear weight), for ``FUSERS``."""
        value = self.rrf_k if self.fusion == "rrf" else self.linear_weight
        if value is None:
            return RRF_K if self.fusion == "rrf" else LINEAR_WEIGHT
        return value

    def resolve(self, manifest: Manifest) -> SearchOptions:
        """These options with every unset field filled in: from the settings saved in the
        index by ``citesearch tune --save``, else the index's method and BM25 parameters
        and the defaults here."""
        saved = manifest.tuned
        if saved is not None:
            base = SearchOptions.from_tuned(saved)
        else:
            base = SearchOptions(
                method=manifest.method, fusion=DEFAULT_FUSION, bm25=manifest.bm25, expand=None,
                aggregate=DEFAULT_AGGREGATE, rrf_k=RRF_K, linear_weight=LINEAR_WEIGHT,
                expand_runs=DEFAULT_EXPAND_RUNS,
            )
        base = replace(base, hybrid_with=base.hybrid_with or ("dfr" if manifest.dfr is not None else "bm25"))
        unset = {name: getattr(base, name) for name in _RANKING if _unset(name, getattr(self, name))}
        resolved = replace(self, **unset) if unset else self
        if manifest.dfr is None and "dfr" in resolved.runs():
            raise OptionError(
                "this index stores no In_expC2 (dfr) weights",
                hint="Rebuild it with this version of citesearch, or rank with method bm25 (hybrid_with bm25).",
            )
        return resolved

    def runs(self) -> tuple[str, ...]:
        """The runs a resolved method ranks: hybrid's two (its ``hybrid_with`` and
        ``tfidf``), or the method's one."""
        return (self.hybrid_with or "bm25", "tfidf") if self.method == "hybrid" else (self.method or "bm25",)

    def expanded(self, kind: str) -> bool:
        """Whether the ``bm25``, ``dfr`` or ``tfidf`` run ranks the query expanded by RM3
        (when ``expand`` is set); ``expand_runs="bm25"`` expands the probabilistic run
        (BM25 or In_expC2)."""
        return self.expand_runs in (None, "all") or (self.expand_runs == "bm25" and kind in ("bm25", "dfr"))

    def with_(self, **changes: object) -> SearchOptions:
        return replace(self, **changes)  # type: ignore[arg-type]

    def describe(self) -> str:
        """The ranking settings in a line, for resolved options:
        ``hybrid (rrf k=60), BM25 okapi k1=0.9 b=0.4, no RM3, aggregate max``."""
        head = self.method or "the index's method"
        if self.method == "hybrid":
            head += f" (rrf k={self.rrf_k:g})" if self.fusion == "rrf" else f" (linear w={self.linear_weight:g})"
            if self.hybrid_with == "dfr":
                head += " of In_expC2 and TF-IDF"
        parts = [head]
        b, e = self.bm25, self.expand
        if b is not None and ("bm25" in self.runs() or isinstance(e, RM3)):  # BM25 ranks or gives feedback
            parts.append(f"BM25 {b.variant} k1={b.k1:g} b={b.b:g}")
        rm3 = f"RM3 {e.fb_docs} docs, {e.fb_terms} terms, weight {e.weight:g}" if isinstance(e, RM3) else "no RM3"
        if isinstance(e, RM3) and self.expand_runs == "bm25":
            rm3 += " (BM25 run only)"
        parts.append(rm3)
        parts.append(f"aggregate {self.aggregate}")
        return ", ".join(parts)

    # -- as data -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON object: every field, ``bm25`` and ``expand`` as objects
        (or null); an unset ``expand`` is left out. :meth:`from_dict` reads it back."""
        out: dict[str, Any] = {
            "method": self.method,
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
            "linear_weight": self.linear_weight,
            "bm25": self.bm25.to_dict() if self.bm25 is not None else None,
        }
        if self.expand is not UNSET:
            e = self.expand
            out["expand"] = None if e is None else {"fb_docs": e.fb_docs, "fb_terms": e.fb_terms, "weight": e.weight}
        out["expand_runs"] = self.expand_runs
        out["hybrid_with"] = self.hybrid_with
        out.update(per_source=self.per_source, aggregate=self.aggregate, explain=self.explain)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SearchOptions:
        """The options of a :meth:`to_dict` object; a missing key is unset. Raises
        :class:`OptionError` for an unknown key or a bad value."""
        if not isinstance(data, dict):
            raise OptionError("search options must be a JSON object")
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise OptionError(f"unknown search option(s) {', '.join(unknown)}")
        values = dict(data)
        try:
            if values.get("bm25") is not None:
                b = values["bm25"]
                values["bm25"] = BM25Params(b["variant"], float(b["k1"]), float(b["b"]), b.get("delta"))
            if values.get("expand") is not None:
                e = values["expand"]
                values["expand"] = RM3(int(e["fb_docs"]), int(e["fb_terms"]), float(e["weight"]))
            return cls(**values)
        except OptionError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise OptionError(f"bad search options: {exc}") from None

    @classmethod
    def from_tuned(cls, tuned: TunedSettings) -> SearchOptions:
        """The options saved in an index by ``citesearch tune --save``."""
        return cls(
            method=tuned.method,
            fusion=tuned.fusion,
            bm25=tuned.bm25,
            expand=RM3(*tuned.expand) if tuned.expand is not None else None,
            aggregate=tuned.aggregate,
            rrf_k=tuned.rrf_k,
            linear_weight=tuned.linear_weight,
            expand_runs=tuned.expand_runs,
            hybrid_with=tuned.hybrid_with,
        )

    def tuned(self, **chosen_by: Any) -> TunedSettings:
        """These resolved options as the record ``citesearch tune --save`` keeps in the
        index; ``chosen_by``: its metric, score, queries, folds, created."""
        if self.method is None or self.fusion is None or self.bm25 is None or self.aggregate is None:
            raise OptionError("only resolved options can be saved")
        e = self.expand
        return TunedSettings(
            method=self.method,
            fusion=self.fusion,
            rrf_k=self.rrf_k if self.rrf_k is not None else RRF_K,
            linear_weight=self.linear_weight if self.linear_weight is not None else LINEAR_WEIGHT,
            bm25=self.bm25,
            expand=None if not isinstance(e, RM3) else (e.fb_docs, e.fb_terms, e.weight),
            aggregate=self.aggregate,
            expand_runs=self.expand_runs or DEFAULT_EXPAND_RUNS,
            hybrid_with=self.hybrid_with,
            **chosen_by,
        )


_RANKING = ("method", "fusion", "bm25", "expand", "aggregate", "rrf_k", "linear_weight", "expand_runs", "hybrid_with")
"""The fields an index can set (the rest are each search's own)."""


def _unset(name: str, value: object) -> bool:
    return value is UNSET if name == "expand" else value is None


def _check(name: str, value: str | None, allowed: tuple[str, ...], none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if value not in allowed:
        raise OptionError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")
