"""Split documents into passages along paragraph and sentence boundaries.

Sentences come from NLTK's Punkt tokenizer used as a class, with a list of common
abbreviations and no downloaded model. Whole sentences are packed into windows of about
``words`` words: a document of W words gets round(W / words) passages (at least one) of
about equal size. A sentence longer than a window is cut at word boundaries; a window
closes early at a paragraph boundary once it is three quarters full, and a tail of less
than half a window is merged into the passage before it, so a short document is exactly
one passage.
Every passage is a character span: ``document.text[start:end]``.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Iterator
from functools import lru_cache

from .documents import Document, Passage

DEFAULT_WORDS = 200
DEFAULT_OVERLAP = 0
# A document's title terms count this many times, in its first passage (issue 13: BM25F-like
# title weighting, chosen by leave-one-collection-out; BENCHMARKS.md).
DEFAULT_TITLE_WEIGHT = 2

_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\s*\n[ \t\r\f\v]*\n|\s*\Z)", re.S)
_WORD = re.compile(r"\S+")

ABBREVIATIONS = (
    "dr mr mrs ms prof sr jr st mt no nos vs etc e.g i.e cf al fig figs eq eqs vol "
    "pp ed eds approx dept est inc ltd co corp jan feb mar apr jun jul aug sep sept oct "
    "nov dec u.s u.k ph.d m.d b.a m.a ca"
).split()


@lru_cache(maxsize=1)
def _sentence_splitter():
    from ..nltk_parts import punkt

    params = punkt().PunktParameters()
    params.abbrev_types = set(ABBREVIATIONS)
    return punkt().PunktSentenceTokenizer(params)


def _units(text: str, words: int) -> Iterator[tuple[int, int, int, bool]]:
    """(start, end, word count, starts a paragraph) for each sentence-sized unit.

    Units are whole whitespace-delimited words: a word belongs to the sentence its first
    character is in (Punkt may end a sentence inside "(N.L.L.),"), and a sentence longer
    than ``words`` is cut into ``words``-word pieces.
    """
    splitter = _sentence_splitter()
    for para in _PARAGRAPH.finditer(text):
        body = para.group()
        starts = [s for s, _ in splitter.span_tokenize(body)]
        spans = [m.span() for m in _WORD.finditer(body)]
        groups: list[list[tuple[int, int]]] = []
        current_sentence = -1
        for span in spans:
            sentence = bisect_right(starts, span[0]) - 1
            if sentence != current_sentence:
                groups.append([])
                current_sentence = sentence
            groups[-1].append(span)
        # A sentence longer than a window is cut into equal pieces of at most `words`.
        groups = [piece for group in groups for piece in _even_pieces(group, words)]
        base = para.start()
        for i, group in enumerate(groups):
            yield base + group[0][0], base + group[-1][1], len(group), i == 0


def _even_pieces(items: list, size: int) -> list[list]:
    """``items`` cut into the fewest pieces of at most ``size``, of (nearly) equal length."""
    n = -(-len(items) // size)
    return [items[len(items) * i // n : len(items) * (i + 1) // n] for i in range(n)]


def passage_spans(text: str, words: int = DEFAULT_WORDS, overlap: int = DEFAULT_OVERLAP) -> list[tuple[int, int]]:
    """(start, end) of each passage of ``text``; see :func:`split_passages`."""
    if words < 1 or overlap < 0:
        raise ValueError("words must be positive and overlap non-negative")
    start = len(text) - len(text.lstrip())
    if start == len(text):
        return []
    # A text of fewer than 3 × words - 1 characters has fewer than 1.5 × words words (every
    # word but the last takes a character and a space): one passage without counting them.
    if len(text) < 3 * words - 1 or round(len(text.split()) / words) <= 1:
        # One passage: no need to find sentences.
        return [(start, len(text.rstrip()))]
    total = len(text.split())
    # Balance the windows: as many as the document has `words`-sized stretches
    # (rounded), each aiming at an equal share, so no passage is a stub.
    target = total / round(total / words)
    units = list(_units(text, math.ceil(target)))
    windows: list[list[tuple[int, int, int, bool]]] = []
    current: list[tuple[int, int, int, bool]] = []
    carried = 0  # units at the head of `current` repeated from the previous window
    count = 0  # words in `current` beyond the carried units
    for unit in units:
        n, new_paragraph = unit[2], unit[3]
        full = count + n / 2 > target or (new_paragraph and count >= target * 0.75)
        if count and full:
            windows.append(current)
            carried = min(overlap, len(current) - 1)
            current = current[len(current) - carried :] if carried else []
            count = 0
        current.append(unit)
        count += n
    if windows and count < target / 2:
        windows[-1] = windows[-1] + current[carried:]
    else:
        windows.append(current)
    return [(w[0][0], w[-1][1]) for w in windows]


def split_passages(doc: Document, words: int = DEFAULT_WORDS, overlap: int = DEFAULT_OVERLAP) -> list[Passage]:
    """Cut ``doc`` into passages of about ``words`` words.

    ``overlap`` is how many sentences each passage repeats from the end of the one
    before it.
    """
    return [Passage(doc.id, i, s, e) for i, (s, e) in enumerate(passage_spans(doc.text, words, overlap))]
