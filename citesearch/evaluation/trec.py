"""Reading and writing TREC-style files: qrels (TREC or BEIR TSV) and run files.

A run is ``{query_id: {doc_id: score}}`` and qrels are ``{query_id: {doc_id: relevance}}``,
the shapes ir_measures and pytrec_eval use.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from ..errors import CitesearchError, CorpusError

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def _open_text(path: str | os.PathLike[str]):
    import gzip

    p = Path(path)
    try:
        if p.name.endswith(".gz"):
            return gzip.open(p, "rt", encoding="utf-8", errors="replace")
        return open(p, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CitesearchError(f"{path}: cannot read: {exc.strerror or exc}") from None


def read_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Relevance judgments, TREC (``qid iter docid rel``) or BEIR TSV (header, then
    ``query-id<TAB>corpus-id<TAB>score``). Graded relevance is kept as given."""
    qrels: Qrels = {}
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if lineno == 1 and not parts[-1].lstrip("-").isdigit():
                continue  # a header line (BEIR: query-id corpus-id score)
            if len(parts) == 4:
                qid, _, doc, rel = parts
            elif len(parts) == 3:
                qid, doc, rel = parts
            else:
                raise CorpusError(str(path), f"expected 'qid iter docid rel' or 'qid docid rel', got {len(parts)} fields", lineno)
            try:
                qrels.setdefault(qid, {})[doc] = int(float(rel))
            except ValueError:
                raise CorpusError(str(path), f"relevance {rel!r} is not a number", lineno) from None
    if not qrels:
        raise CitesearchError(f"{path}: no judgments in the file")
    return qrels


def read_run(path: str | os.PathLike[str]) -> tuple[Run, str]:
    """A TREC run file (``qid Q0 docid rank score tag``) and its run tag.

    A document listed twice for one query keeps its first score (later lines are the
    duplicates a broken run writer produces).
    """
    run: Run = {}
    tag = ""
    with _open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 6:
                raise CorpusError(str(path), f"expected 'qid Q0 docid rank score tag', got {len(parts)} fields", lineno)
            qid, _, doc, _, score, tag = parts
            try:
                value = float(score)
            except ValueError:
                raise CorpusError(str(path), f"score {score!r} is not a number", lineno) from None
            run.setdefault(qid, {}).setdefault(doc, value)
    return run, tag or Path(path).name


def trec_lines(qid: str, ranked: Iterable[tuple[str, float]], run_name: str) -> list[str]:
    """Run-file lines for one query's ranking, given best first."""
    return [f"{qid} Q0 {doc} {rank} {score:.6f} {run_name}\n" for rank, (doc, score) in enumerate(ranked, 1)]
