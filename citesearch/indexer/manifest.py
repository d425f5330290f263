"""The index manifest: one typed record, read and written only here.

``manifest.json`` holds the format version, the settings an index was built with (and
that the query path must reuse: analysis, passages, BM25, TF-IDF, the default search
method), its counts and each file's checksum. On disk it is plain JSON, laid out as
:meth:`Manifest.to_dict` writes it; :func:`read_manifest` is the one way in.

``citesearch tune --save`` adds the query-time settings it chose (:class:`TunedSettings`,
under ``"search"``): :func:`save_tuned` rewrites the manifest with them, atomically.

Since format 4 the index's files live in a generation folder inside the index folder
(``"data": "g000003"``) and ``manifest.json`` beside it is the commit point: writing a
new generation, then renaming a new manifest over the old one, switches every new reader
from the old files to the new at once (see ``storage.py``). The manifest carries the
checksum of its own content (``"checksum"``), so that ``info --verify`` notices an edit.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..errors import IndexCorrupt, IndexNotFound, IndexVersionError
from .analysis import AnalyzerConfig
from .bm25 import BM25Params
from .dfr import DFRParams
from .locking import writer_lock
from .tfidf import TfidfParams

FORMAT = "citesearch-index"
FORMAT_VERSION = 6
# 3 may leave a title out (NULL) when it is the whole text; 4 keeps the files in a
# generation folder and may have gaps in source rows and term ids (after updates); 5 packs
# texts (zstd, indexer/packing.py) and lists each source path once (table paths); 6 keeps
# the passages' ordinals and offsets in arrays, beside their sources and lengths, not in
# the store's table passages.
READABLE_VERSIONS = (2, 3, 4, 5, 6)
MANIFEST = "manifest.json"

METHODS = ("bm25", "tfidf", "dfr", "hybrid")
"""Ranking methods an index can be searched with (the search package implements them)."""
DEFAULT_METHOD = "hybrid"


@dataclass(frozen=True)
class Counts:
    sources: int
    passages: int
    terms: int
    postings: int
    tokens: int


@dataclass(frozen=True)
class FileEntry:
    """A file of the index folder as it was written."""

    bytes: int
    sha256: str


@dataclass(frozen=True)
class TunedSettings:
    """Query-time ranking settings chosen by ``citesearch tune`` and saved in the index:
    searches use them where no option says otherwise (``SearchOptions.resolve``).

    The fields mirror ``SearchOptions``' ranking fields; ``metric``, ``score`` (the
    cross-validated estimate), ``queries`` and ``folds`` say how they were chosen."""

    method: str
    fusion: str
    rrf_k: float
    linear_weight: float
    bm25: BM25Params
    expand: tuple[int, int, float] | None
    """RM3 feedback as (fb_docs, fb_terms, weight), or None: no feedback."""
    aggregate: str
    metric: str = ""
    score: float | None = None
    queries: int = 0
    folds: int = 0
    created: str = ""
    expand_runs: str = "all"
    """Which runs rank the expanded query: ``all`` or ``bm25`` (``SearchOptions.expand_runs``)."""
    hybrid_with: str | None = None
    """The run hybrid fuses with TF-IDF (``SearchOptions.hybrid_with``); None: the index's."""

    def to_dict(self) -> dict[str, Any]:
        expand = None
        if self.expand is not None:
            expand = dict(zip(("fb_docs", "fb_terms", "weight"), self.expand))
        return {
            "method": self.method,
            "fusion": self.fusion,
            "rrf_k": self.rrf_k,
            "linear_weight": self.linear_weight,
            "bm25": self.bm25.to_dict(),
            "expand": expand,
            "aggregate": self.aggregate,
            "expand_runs": self.expand_runs,
            **({"hybrid_with": self.hybrid_with} if self.hybrid_with is not None else {}),
            "chosen_by": {
                "metric": self.metric, "cross_validated": self.score, "queries": self.queries, "folds": self.folds,
                "created": self.created,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TunedSettings:
        method = data["method"]
        if method not in METHODS:
            raise ValueError(f"unknown tuned search method {method!r}")
        bm25, expand, chosen = data["bm25"], data["expand"], data.get("chosen_by", {})
        score = chosen.get("cross_validated")
        return cls(
            method=method,
            fusion=str(data["fusion"]),
            rrf_k=float(data["rrf_k"]),
            linear_weight=float(data["linear_weight"]),
            bm25=BM25Params(bm25["variant"], float(bm25["k1"]), float(bm25["b"]), bm25.get("delta")),
            expand=None if expand is None else (
                int(expand["fb_docs"]), int(expand["fb_terms"]), float(expand["weight"])
            ),
            aggregate=str(data["aggregate"]),
            expand_runs=str(data.get("expand_runs", "all")),  # not in manifests before it was added
            hybrid_with=None if data.get("hybrid_with") is None else str(data["hybrid_with"]),
            metric=str(chosen.get("metric", "")),
            score=None if score is None else float(score),
            queries=int(chosen.get("queries", 0)),
            folds=int(chosen.get("folds", 0)),
            created=str(chosen.get("created", "")),
        )


@dataclass(frozen=True)
class Manifest:
    analyzer: AnalyzerConfig
    stopwords: frozenset[str]
    """The stop word list the analyzer dropped (by surface form)."""
    passage_words: int
    passage_overlap: int
    bm25: BM25Params
    avg_passage_length: float
    tfidf: TfidfParams
    method: str
    """The search method the index was built to be searched with."""
    impact_prefix: int
    counts: Counts
    created_by: str = ""
    created: str = ""
    build_seconds: float = 0.0
    files: dict[str, FileEntry] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    tuned: TunedSettings | None = None
    """Search settings saved by ``citesearch tune --save``; None: the index's own."""
    title_weight: int = 1
    """How many times a document's title terms count (in its first passage); written
    under ``"passages"`` only when not 1, and 1 in a manifest without it."""
    data: str = ""
    """The generation folder, inside the index folder, that holds the files; "" (before
    format 4): the index folder itself."""
    shards: int = 0
    """How many shard indexes the generation folder holds (``indexer/sharding.py``: this
    manifest then has the whole collection's counts and statistics); 0: not sharded."""
    dfr: DFRParams | None = None
    """The In_expC2 weights' parameters (``indexer/dfr.py``); None: the index stores none
    (built before issue 13's third round, or with ``IndexSettings.dfr=None``), and its
    hybrid fuses BM25 with TF-IDF."""

    def with_files(self, files: dict[str, FileEntry]) -> Manifest:
        return replace(self, files=files, format_version=FORMAT_VERSION)

    def to_dict(self) -> dict[str, Any]:
        """The JSON layout of ``manifest.json``."""
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "created_by": self.created_by,
            "created": self.created,
            "analyzer": {**self.analyzer.to_dict(), "stopword_list": sorted(self.stopwords)},
            "passages": {
                "words": self.passage_words,
                "overlap": self.passage_overlap,
                **({"title_weight": self.title_weight} if self.title_weight != 1 else {}),
            },
            "bm25": {**self.bm25.to_dict(), "avg_passage_length": self.avg_passage_length},
            "tfidf": self.tfidf.to_dict(),
            **({"dfr": self.dfr.to_dict()} if self.dfr is not None else {}),
            "search": {
                "method": self.method,
                "impact_prefix": self.impact_prefix,
                **({"tuned": self.tuned.to_dict()} if self.tuned is not None else {}),
            },
            "counts": {
                "sources": self.counts.sources,
                "passages": self.counts.passages,
                "terms": self.counts.terms,
                "postings": self.counts.postings,
                "tokens": self.counts.tokens,
            },
            "build_seconds": self.build_seconds,
            **({"data": self.data} if self.data else {}),
            **({"shards": self.shards} if self.shards else {}),
            "files": {name: {"bytes": f.bytes, "sha256": f.sha256} for name, f in self.files.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        """The record of a parsed ``manifest.json``; KeyError, TypeError or ValueError
        when a part is missing or malformed (see :func:`read_manifest`)."""
        analyzer = dict(data["analyzer"])
        stopwords = frozenset(analyzer.pop("stopword_list", ()))
        bm25, search, counts = data["bm25"], data["search"], data["counts"]
        tfidf = data["tfidf"]
        method = search.get("method", DEFAULT_METHOD)
        if method not in METHODS:
            raise ValueError(f"unknown search method {method!r}")
        return cls(
            analyzer=AnalyzerConfig(**analyzer),
            stopwords=stopwords,
            passage_words=int(data["passages"]["words"]),
            passage_overlap=int(data["passages"]["overlap"]),
            bm25=BM25Params(bm25["variant"], float(bm25["k1"]), float(bm25["b"]), bm25.get("delta")),
            avg_passage_length=float(bm25["avg_passage_length"]),
            tfidf=TfidfParams(bool(tfidf["sublinear_tf"]), bool(tfidf["smooth_idf"])),
            dfr=DFRParams.from_dict(data["dfr"]) if data.get("dfr") is not None else None,
            method=method,
            impact_prefix=int(search["impact_prefix"]),
            counts=Counts(*(int(counts[k]) for k in ("sources", "passages", "terms", "postings", "tokens"))),
            created_by=str(data.get("created_by", "")),
            created=str(data.get("created", "")),
            build_seconds=float(data.get("build_seconds", 0.0)),
            files={name: FileEntry(int(f["bytes"]), str(f["sha256"])) for name, f in data.get("files", {}).items()},
            format_version=int(data["format_version"]),
            tuned=TunedSettings.from_dict(search["tuned"]) if search.get("tuned") is not None else None,
            title_weight=int(data["passages"].get("title_weight", 1)),
            data=_data_folder(data.get("data", "")),
            shards=int(data.get("shards", 0)),
        )


def _data_folder(name: object) -> str:
    """A generation folder's name, as the manifest gives it: a plain name, no path."""
    if not isinstance(name, str) or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ValueError(f"bad data folder {name!r}")
    return name


def _checksum(data: dict[str, Any]) -> str:
    """The checksum of a manifest's content, its own ``checksum`` left out."""
    content = {k: v for k, v in data.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def manifest_intact(path: str | os.PathLike[str]) -> bool:
    """Whether the manifest of the index folder ``path`` still has the content it was
    written with (a manifest written before format 4 has no checksum: True)."""
    data = json.loads((Path(path) / MANIFEST).read_text())
    return "checksum" not in data or data["checksum"] == _checksum(data)


def write_manifest(folder: str | os.PathLike[str], manifest: Manifest) -> None:
    """Write ``manifest.json`` into ``folder`` atomically: to a temporary file beside it,
    then renamed over it, so that a reader sees the old manifest or the new, whole."""
    fd, tmp = tempfile.mkstemp(prefix=f".{MANIFEST}.", suffix=".tmp", dir=folder)
    try:
        data = manifest.to_dict()
        data["checksum"] = _checksum(data)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, ensure_ascii=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        target = Path(folder) / MANIFEST
        os.chmod(tmp, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())  # mkstemp's is 0600
        os.replace(tmp, target)
        _fsync_dir(folder)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_tuned(folder: str | os.PathLike[str], tuned: TunedSettings | None) -> Manifest:
    """Save ``tuned`` as the index's search settings (None removes them); the new manifest.
    As a writer: while no other writes (an update would otherwise undo it)."""
    read_manifest(folder)  # no index: say so, before the lock makes a folder
    with writer_lock(folder):
        manifest = replace(read_manifest(folder), tuned=tuned)
        write_manifest(folder, manifest)
    return manifest


def read_manifest(path: str | os.PathLike[str]) -> Manifest:
    """The manifest of the index folder ``path``.

    Raises :class:`IndexNotFound` when there is none, :class:`IndexVersionError` for a
    format this version cannot read, and :class:`IndexCorrupt` when it is not valid."""
    path = Path(path)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise IndexNotFound(f"no citesearch index at {path}")
    try:
        data = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as exc:
        raise IndexCorrupt(f"{manifest_path}: unreadable manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise IndexCorrupt(f"{manifest_path}: not a citesearch manifest")
    version = data.get("format_version")
    if version not in READABLE_VERSIONS:
        readable = " and ".join(map(str, READABLE_VERSIONS))
        raise IndexVersionError(
            f"index at {path} has format version {version}; this citesearch reads versions {readable}"
        )
    try:
        return Manifest.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise IndexCorrupt(f"{manifest_path}: malformed manifest ({detail})") from None
