"""Reading and writing TREC-style files: qrels (TREC or BEIR TSV) and run files.

A run is ``{query_id: {doc_id: score}}`` and qrels are ``{query_id: {doc_id: relevance}}``,
the shapes ir_measures and pytrec_eval use.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote

from ..errors import CitesearchError, CorpusError

Run = dict[str, dict[str, float]]
Qrels = dict[str, dict[str, int]]


def _open_text(path: str | os.PathLike[str]):
    """The file's lines, decoded (a UTF-8 byte order mark dropped), gunzipped if ``.gz``."""
    import gzip

    p = Path(path)
    try:
        if p.name.endswith(".gz"):
            return _checked(gzip.open(p, "rt", encoding="utf-8-sig", errors="replace"), path)
        return _checked(open(p, encoding="utf-8-sig", errors="replace"), path)
    except OSError as exc:
        raise CitesearchError(f"{path}: cannot read: {exc.strerror or exc}") from None


MAX_LINE_CHARS = 1 << 20
"""The longest line a qrels or run file may have: a longer one (a gzip bomb with no
line ends) is an error, not read whole."""


def _checked(f, path):
    """Lines of ``f``; an error reading it (a bad gzip stream, a disk error) or a line
    longer than :data:`MAX_LINE_CHARS` is one line."""
    import zlib

    with f:
        try:
            lineno = 0
            while line := f.readline(MAX_LINE_CHARS + 1):
                lineno += 1
                if len(line) > MAX_LINE_CHARS and not line.endswith("\n"):
                    raise CorpusError(str(path), f"line longer than {MAX_LINE_CHARS:,} characters", lineno)
                yield line
        except (OSError, EOFError, zlib.error) as exc:
            raise CitesearchError(f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None


def grade(value: str) -> int:
    """A relevance grade as trec_eval reads it: an integer, or a number with an integral
    value (``2.0``). Raises ValueError for anything else (``2.5``, ``inf``, ``nan``, words).

    >>> grade("2"), grade("-1"), grade("2.0")
    (2, -1, 2)
    """
    try:
        return int(value)
    except ValueError:
        number = float(value)  # ValueError if not a number
        if not math.isfinite(number) or not number.is_integer():
            raise ValueError(value) from None
        return int(number)


def read_qrels(path: str | os.PathLike[str]) -> Qrels:
    """Relevance judgments, TREC (``qid iter docid rel``) or BEIR TSV (header, then
    ``query-id<TAB>corpus-id<TAB>score``). Graded relevance is kept as given: integers
    (``2.0`` is 2); any other grade is an error naming the line. The first line is
    taken for a header only when it is not a judgment itself."""
    qrels: Qrels = {}
    first = True
    for lineno, line in enumerate(_open_text(path), 1):
        # BEIR TSV separates by tabs (ids may hold spaces); TREC qrels by white space.
        parts = [p.strip() for p in line.rstrip("\r\n").split("\t")] if "\t" in line else line.split()
        if not parts or not any(parts):
            continue
        header, first = first, False
        if len(parts) == 4:
            qid, _, doc, rel = parts
        elif len(parts) == 3:
            qid, doc, rel = parts
        elif header:
            continue  # a header line of another width
        else:
            raise CorpusError(
                str(path), f"expected 'qid iter docid rel' or 'qid docid rel', got {len(parts)} fields", lineno
            )
        try:
            value = grade(rel)
        except ValueError:
            if header:
                continue  # a header line (BEIR: query-id corpus-id score)
            raise CorpusError(
                str(path), f"relevance {rel!r} is not an integer grade (as trec_eval reads them)", lineno
            ) from None
        if not qid or not doc:
            raise CorpusError(str(path), "empty query or document id", lineno)
        qrels.setdefault(qid, {})[doc] = value
    if not qrels:
        raise CitesearchError(f"{path}: no judgments in the file")
    return qrels


_TO_ENCODE = re.compile(r"[\s%]")  # \s is str.isspace() (tested)


def encode_id(value: str) -> str:
    """An id as a run file can hold it: white space (and ``%``) percent-encoded.

    >>> encode_id("my notes.txt")
    'my%20notes.txt'
    """
    if not _TO_ENCODE.search(value):
        return value
    return "".join(
        f"%{ord(c):02X}" if (c.isspace() and ord(c) < 256) or c == "%" else ("_" if c.isspace() else c) for c in value
    )


def decode_id(value: str) -> str:
    return unquote(value) if "%" in value else value


def parse_run(lines: Iterable[str], source: str) -> tuple[Run, str]:
    """Run-file lines (``qid Q0 docid rank score tag``) as a run, and its tag.

    A document listed twice for one query keeps its first score (later lines are the
    duplicates a broken run writer produces). Ids are percent-decoded (see
    :func:`encode_id`).
    """
    run: Run = {}
    tag = ""
    for lineno, line in enumerate(lines, 1):
        parts = (line.removeprefix("\ufeff") if lineno == 1 else line).split()
        if not parts:
            continue
        if len(parts) != 6:
            raise CorpusError(source, f"expected 'qid Q0 docid rank score tag', got {len(parts)} fields", lineno)
        qid, _, doc, _, score, tag = parts
        try:
            value = float(score)
        except ValueError:
            raise CorpusError(source, f"score {score!r} is not a number", lineno) from None
        if math.isnan(value):
            raise CorpusError(source, f"score {score!r} is not a number (it cannot be ranked)", lineno)
        run.setdefault(decode_id(qid), {}).setdefault(decode_id(doc), value)
    return run, tag


def read_run(path: str | os.PathLike[str]) -> tuple[Run, str]:
    """A TREC run file and its run tag (the file name when it has none)."""
    run, tag = parse_run(_open_text(path), str(path))
    return run, tag or Path(path).name


def run_names(runs: Sequence[tuple[str, str]]) -> list[str]:
    """Names for runs shown side by side, given each run's ``(tag, file)``: the run tag,
    unless it collides with another run's name; then the file's name, then the file as
    given; runs that still collide (one file given twice) are numbered.

    >>> run_names([("bm25", "a/x.trec"), ("hybrid", "a/y.trec"), ("hybrid", "b/z.trec")])
    ['bm25', 'y.trec', 'z.trec']
    >>> run_names([("hybrid", "a/run.trec"), ("hybrid", "b/run.trec"), ("hybrid", "b/run.trec")])
    ['a/run.trec', 'b/run.trec', 'b/run.trec-2']
    """
    choices = [(tag, Path(file).name, file) for tag, file in runs]
    level = [0] * len(runs)
    while True:
        names = [c[i] for c, i in zip(choices, level)]
        counts = Counter(names)
        clashing = [n for n, name in enumerate(names) if counts[name] > 1 and level[n] < 2]
        if not clashing:
            break
        for n in clashing:
            level[n] += 1
    taken: set[str] = set()
    out = []
    for name in names:
        candidate, k = name, 2
        while candidate in taken:
            candidate, k = f"{name}-{k}", k + 1
        taken.add(candidate)
        out.append(candidate)
    return out


def trec_lines(qid: str, ranked: Iterable[tuple[str, float]], run_name: str) -> str:
    """Run-file lines for one query's ranking, given best first."""
    q = encode_id(qid)
    return "".join(
        f"{q} Q0 {encode_id(doc)} {rank} {score:.9g} {run_name}\n" for rank, (doc, score) in enumerate(ranked, 1)
    )
