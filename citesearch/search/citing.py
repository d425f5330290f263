"""Citing a text: which of its claims does the index support, and where?

For each claim (:mod:`.claims`), the index's best passages for the claim's words (BM25,
:data:`CANDIDATES` of them) are candidates, and each is scored for how well it *supports*
the claim — relevance is not enough: a passage about the same drug that gives another
number does not support the claim. The lexical support score of a passage ``p`` for a
claim ``c`` (between 0 and 1):

``support = 0`` when a hard requirement fails, else
``support = COVERAGE_WEIGHT · coverage + (1 - COVERAGE_WEIGHT) · agreement``, where ``p``
is the passage's best *window*, one sentence or two adjacent ones, and

- **coverage** is the idf-weighted share of the claim's content terms (stemmed, stop
  words left out, as the index analyzes text) that ``p`` contains:
  ``Σ idf(t), t ∈ c ∩ p / Σ idf(t), t ∈ c``, with scikit-learn's smooth idf over the index's
  passages, ``ln((N + 1) / (df + 1)) + 1`` (a word the index never saw: df = 0). A few
  words of the index's stop list that carry content (:data:`STOP_CONTENT`: serious, side,
  system, ...) count as terms of df N/10. The terms of the claim's *subject* (its words
  before its first auxiliary verb, else its first term) also count when they are in the
  *context* of ``p``: its document's title, or the heading the window sits under — a
  claim names the topic a document is about ("Espresso is made at 9 bar") where the
  document's sentence does not ("Modern machines push water at about 9 bar");
- **agreement** is the idf-weighted share of the claim's adjacent content-term pairs
  (bigrams, stop words skipped) that appear in ``p`` within :data:`PROXIMITY` content
  words of each other, in either order (a paraphrase may turn "survival improved" into
  "improved survival"); a claim of one content term has its coverage as agreement;
- the **hard requirements**: every *number* of the claim (``40%``, ``1,000``, ``3.5``;
  number words one to ninety count as their digits) is a number of ``p``; every *name*
  (a capitalized word that does not start the claim, an acronym or mixed-case word such
  as ``PD-L1``, a word with letters and digits such as ``KEYNOTE-177``, a word with a drug
  name's stem such as ``-mab`` or ``-nib``) has all its words in ``p`` or its context, and
  each capital letter standing alone in it (the B of "B-cells") in ``p``; every *rare
  term* (in at most :data:`RARE_FRACTION` of the passages, or :data:`RARE_MIN`) is in
  ``p`` or its context (a word the index lacks is in no passage: it costs coverage, its
  idf being the highest, but is not required, since the index's counts say nothing of how
  specific it is; names and numbers it lacks are); no claim term of at least the claim's
  median idf is *substituted*: missing from ``p`` while the claim's terms either side of
  it are in ``p`` with one other content word between them ("advanced breast cancers"
  against "advanced genitourinary cancers"); and the claim's clauses *agree* with ``p``'s:
  each clause of the claim is matched to the units of ``p`` (a clause, or two adjacent
  ones of a sentence: "in pancreatic cancer, immunotherapy has failed") that share most of
  its idf weight, when that is at least half (else, to all the clauses that share any of
  its terms, when together they share half); one may not be negated (``not``, ``no``,
  ``never``, ``n't``, ``without``, ...) while the other is not, nor be at one end of a
  scale (most/all/always, cured/succeeded, increased, higher, more, larger, ...) where the
  other is only at the opposite end (few/minority/rarely, failed, decreased, lower, less,
  smaller, ...: :data:`_SCALES`).

A claim is **supported** by the passages whose support is at least ``min_support``
(:data:`DEFAULT_MIN_SUPPORT`, chosen on a labeled set built from the shared test
collections, leave one collection out: ``benchmarks/cite_calibration.py`` and
BENCHMARKS.md); it cites the best of them, one passage per source, up to
``max_citations``. A claim nothing supports is **unsupported**; its record says what the
best candidate lacked.

``check`` reads a text that already cites (``[n]`` markers and a numbered source list),
resolves each listed source to an indexed document (by path, id, URL or title, fuzzily),
and says of each cited stretch of text whether its cited source supports it, another one
does, nothing does, or the cited source is not in the index.
"""

from __future__ import annotations

import difflib
import math
import re
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..errors import CitesearchError
from ..indexer.storage import PassageRecord, SourceRecord
from .citations import number_sources
from .claims import Sentence, SourceEntry, content_words, is_claim, split_sentences
from .query import plain_query
from .results import PassageRef, SourceRef

if TYPE_CHECKING:
    from .searcher import Index

DEFAULT_MIN_SUPPORT = 0.7
"""A passage supports a claim when its support score is at least this (calibrated)."""
DEFAULT_MAX_CITATIONS = 2
CANDIDATES = 10
"""Passages retrieved (BM25) per claim, then scored for support."""
COVERAGE_WEIGHT = 0.7
PROXIMITY = 3
RARE_FRACTION = 0.01
RARE_MIN = 1
"""A term in at most this many passages is rare whatever the index's size."""
IDF_POWER = 1.0
"""Coverage and agreement weigh a term by its idf to this power."""
CONTEXT_WEIGHT = 1.0
"""How much a claim term found only in the passage's document title, or in the heading its
window sits under, counts toward coverage (0: not at all, 1: as in the window)."""
CONTEXT_REQUIRED = True
"""Whether names and rare terms found in the title or heading meet their requirement."""
CONTEXT_SUBJECT = True
"""Whether the title and heading count only for the claim's subject: its terms before its
first auxiliary verb (is, are, can, has, ...; within its first eight words), else its first
term. A claim names what the document is about as its subject; its predicate must be stated."""
CONTENT_STOPWORDS = True
"""Whether the words of :data:`STOP_CONTENT` count as claim terms although the index's stop
list leaves them out (as a term of df N/10)."""
STOP_CONTENT = frozenset(
    "amount bill bottom call describe detail empty fill fire found front full interest mill move name part "
    "serious side system thick thin top".split()
)
"""Words of scikit-learn's English stop list (the index's default) that carry content."""
SUBSTITUTION = True
"""Whether a claim term is required when the window has another word in its place: the
claim's terms either side of it are in the window with one other content word between them
("advanced breast cancers" against "advanced genitourinary cancers"), and it weighs at least
the claim's median idf."""
POLARITY = True
"""Whether a claim whose clause says the opposite of its matched clause (most/few,
cured/failed, increased/decreased, ...) is unsupported, as a negation mismatch is."""
TITLE_MATCH = 0.75
"""How alike (difflib's ratio, after folding case and punctuation) a listed source's title
and an indexed one must be for ``check`` to take them for the same."""

Key = int | str
"""A content term of a claim or passage: its term id, or the word itself when the index
does not have it."""
Status = Literal["supported", "unsupported"]
CheckStatus = Literal["supported", "wrong_source", "unsupported", "not_in_index"]
CHECK_STATUSES: tuple[str, ...] = ("supported", "wrong_source", "unsupported", "not_in_index")


class CiteError(CitesearchError):
    """A text to cite could not be read or used."""


# -- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Support:
    """How well one passage supports one claim."""

    score: float
    """The support score: ``lexical``, or 0 when a hard requirement fails."""
    coverage: float
    agreement: float
    missing: tuple[str, ...] = ()
    """The claim's numbers, names and rare terms the passage lacks, as written."""
    negation: bool = False
    """True when a clause of the claim disagrees with the passage's: one negated and the
    other not, or (``opposite``) at opposite ends of a scale."""
    opposite: bool = False
    """True when the disagreement is of scale words (most/few, increased/decreased, ...)."""

    @property
    def lexical(self) -> float:
        return COVERAGE_WEIGHT * self.coverage + (1 - COVERAGE_WEIGHT) * self.agreement

    def reason(self) -> str:
        """Why this support is 0 (empty when it is not)."""
        parts = []
        if self.missing:
            parts.append("lacks " + ", ".join(repr(m) for m in self.missing))
        if self.negation:
            parts.append("says the opposite (most/few, more/less, ...)" if self.opposite else "negation differs")
        return "; ".join(parts)


@dataclass(frozen=True)
class Evidence:
    citation: int
    score: float
    passage: PassageRef
    source: SourceRef
    snippet: str
    support: Support | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "citation": self.citation,
            "score": self.score,
            "passage": self.passage.to_dict(),
            "source": self.source.to_dict(),
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class Claim:
    """A claim of the text, ``text[start:end]``, and its verdict."""

    text: str
    start: int
    end: int
    status: Status
    support: float
    """The best candidate's support score."""
    citations: tuple[int, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    reason: str = ""
    """For an unsupported claim: what its best candidate lacked, or why there was none."""
    closest: Evidence | None = field(default=None, compare=False)
    """For an unsupported claim: the candidate that came closest (citation 0)."""
    anchor: int = field(default=0, compare=False)
    """Where a citation marker goes in the text (before the closing punctuation)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "support": self.support,
            "citations": list(self.citations),
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class CitedSource:
    """A numbered source of the result and how many claims cite it."""

    citation: int
    source: SourceRef
    claims: int

    def to_dict(self) -> dict[str, Any]:
        return {"citation": self.citation, **self.source.to_dict(), "claims": self.claims}


@dataclass(frozen=True)
class Citing:
    """The result of :func:`cite`: the claims in text order and the sources they cite."""

    text: str
    claims: list[Claim]
    sources: list[CitedSource]
    min_support: float

    @property
    def unsupported(self) -> list[Claim]:
        return [c for c in self.claims if c.status != "supported"]

    def to_dict(self) -> dict[str, Any]:
        return {"claims": [c.to_dict() for c in self.claims], "sources": [s.to_dict() for s in self.sources]}


@dataclass(frozen=True)
class ListedSource:
    """An entry of the text's source list and the indexed source it resolved to."""

    number: int
    entry: SourceEntry
    source: SourceRef | None
    match: float
    """How alike the entry and the source are: 1 for a path, id or URL, else the titles' ratio."""
    how: str = ""
    """How it was resolved: ``path``, ``id``, ``url`` or ``title``; empty when it was not."""

    def to_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "citation": self.number,
            "entry": self.entry.title,
            "id": s.id if s else None,
            "path": s.path if s else None,
            "title": s.title if s else None,
            "match": round(self.match, 4),
            "how": self.how or None,
        }


@dataclass(frozen=True)
class CheckedCitation:
    """A cited stretch of the text (up to its markers) and the verdict on its citation."""

    text: str
    start: int
    end: int
    cited: tuple[int, ...]
    status: CheckStatus
    support: float
    """The best support among the cited sources' passages (0 when none is indexed)."""
    evidence: tuple[Evidence, ...] = ()
    """Supporting passages: from the cited sources, or (``wrong_source``, and
    ``not_in_index`` when another source supports it) from the suggested one."""
    suggestion: SourceRef | None = None
    suggestion_citation: int | None = None
    """The suggested source's number in the text's list, when it is listed."""
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        suggestion = None
        if self.suggestion is not None:
            suggestion = {"citation": self.suggestion_citation, **self.suggestion.to_dict()}
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "cited": list(self.cited),
            "status": self.status,
            "support": self.support,
            "evidence": [e.to_dict() for e in self.evidence],
            "suggestion": suggestion,
        }


@dataclass(frozen=True)
class Checking:
    """The result of :func:`check`."""

    text: str
    citations: list[CheckedCitation]
    sources: list[ListedSource]
    uncited: int
    """Claims that carry no citation marker."""
    min_support: float

    @property
    def wrong(self) -> list[CheckedCitation]:
        return [c for c in self.citations if c.status != "supported"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "citations": [c.to_dict() for c in self.citations],
            "sources": [s.to_dict() for s in self.sources],
        }


# -- what a claim asserts --------------------------------------------------------------------

_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_TENS = "thirty forty fifty sixty seventy eighty ninety".split()
_NUMBER_WORDS.update({w: str(10 * i) for i, w in enumerate(_TENS, 3)})
_NUMBER = re.compile(
    r"(?<![\w.,])(?<![A-Za-z]-)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?!\w)|(?<!\w)("
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")(?!\w)",
    re.IGNORECASE,
)
_NAME_WORD = re.compile(r"[^\W_](?:[\w'\u2019-]*[^\W_])?")
_DRUG_STEM = re.compile(
    r"(?:mab|nib|cept|parib|ciclib|lisib|platin|taxel|rubicin|mycin|cillin|floxacin|vudine|navir|previr|"
    r"sartan|pril|olol|statin|azole|dronate|gliptin|glitazone|leucel|tinib|zomib)$"
)
_NEGATION = re.compile(
    r"(?<![\w'])(?:not|no|never|none|neither|nor|nothing|nobody|nowhere|cannot|without)(?!\w)|n['\u2019]t(?!\w)",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)|\n[ \t]*\n")
_CLAUSE = re.compile(
    r"[,;:()\[\]\u2014\u2013]|[.!?](?=\s|$)|\s(?:but|while|whereas|although|though|however|unlike)\s",
    re.IGNORECASE,
)


_SCALES: list[tuple[str, str]] = [
    # (the words at one end, at the other): a clause of the claim at one end and its matched
    # clause only at the other disagree, as a negated and an affirmative one do
    ("all every everyone everybody always most majority many much usually often frequently commonly widely "
     "universal universally mostly generally",
     "few fewer minority rare rarely seldom hardly scarcely handful occasionally tiny"),
    ("cure cures cured curing curative succeed succeeds succeeded succeeding success successful successfully "
     "effective effectively effectiveness",
     "fail fails failed failing failure failures unsuccessful unsuccessfully ineffective ineffectively "
     "ineffectiveness"),
    ("increase increases increased increasing rise rises risen rising rose raise raises raised raising gain gains "
     "gained grow grows grown growing grew",
     "decrease decreases decreased decreasing decline declines declined declining fall falls fallen falling fell "
     "reduce reduces reduced reducing reduction drop drops dropped loss losses lose loses losing shrink shrinks "
     "shrinking shrank"),
    ("high higher highest", "low lower lowest"),
    ("more greater", "less fewer lesser"),
    ("large larger largest big bigger biggest", "small smaller smallest little"),
    ("long longer longest", "short shorter shortest"),
    ("strong stronger strongest", "weak weaker weakest"),
    ("better best improve improves improved improving improvement",
     "worse worst worsen worsens worsened worsening deteriorate deteriorates deteriorated deteriorating "
     "deterioration"),
    ("major", "minor"),
    ("maximum maximal", "minimum minimal"),
    ("positive positively", "negative negatively"),
    ("early earlier earliest", "late later latest"),
    ("easy easier easily", "difficult hard harder"),
    ("simple simpler simplest", "complex complicated"),
    ("significant significantly", "insignificant insignificantly nonsignificant"),
]
_POLE_OF: dict[str, tuple[tuple[int, int], ...]] = {}
for _i, (_up, _down) in enumerate(_SCALES):
    for _sign, _words in ((1, _up), (-1, _down)):
        for _w in _words.split():
            _POLE_OF[_w] = (*_POLE_OF.get(_w, ()), (_i, _sign))
_WORD = re.compile(r"[a-z]+")


def _poles(text: str) -> list[tuple[int, tuple[int, int]]]:
    """Where a text's words are at an end of a scale: (offset, (scale, +1 or -1)).

    >>> sorted({pole for _, pole in _poles("Most trials failed; few inroads")})
    [(0, -1), (0, 1), (1, -1)]
    """
    lowered = text.lower()
    words = _WORD.findall(lowered)
    if _POLE_OF.keys().isdisjoint(words):
        return []
    return [(m.start(), pole) for m in _WORD.finditer(lowered) for pole in _POLE_OF.get(m.group(), ())]


_LETTER = re.compile(r"(?<![^\W\d_])[A-Z](?![^\W\d_])")
_AUXILIARY = re.compile(
    r"\b(?:is|are|was|were|can|could|will|would|should|may|might|must|has|have|had|does|do|did)\b", re.IGNORECASE
)


def numbers_in(text: str) -> set[str]:
    """The numbers of a text, normalized: thousands separators and trailing decimal zeros
    dropped, number words as digits.

    >>> sorted(numbers_in("In 2020, 1,000 of 3.50% (three) rose; CTLA-4 is a name."))
    ['1000', '2020', '3', '3.5']
    """
    out = set()
    for m in _NUMBER.finditer(text):
        if m.group(3):
            out.add(_NUMBER_WORDS[m.group(3).lower()])
            continue
        whole = str(int(m.group(1).replace(",", "")))
        decimals = (m.group(2) or "").rstrip("0")
        out.add(f"{whole}.{decimals}" if decimals else whole)
    return out


_RULE_LINE = re.compile(r"\n[ \t]*[=\-~^*#+`:.'\"_]{3,}[ \t]*$")


def _is_heading(body: str) -> bool:
    """Whether a stretch of a passage (between blank lines or sentence ends) is a heading: a
    Markdown ``#`` line, or one line of at most twelve words without a sentence's closing
    punctuation (a reST underline allowed), such as a document's title line.

    >>> [_is_heading(t) for t in ("## Pressure and temperature", "Pressure\\n========", "It rose.", "a\\nb")]
    [True, True, False, False]
    """
    body = body.strip()
    if body[-1:] in (".", "!", "?") or len(body) > 240:
        return False
    body = _RULE_LINE.sub("", body)
    if body.startswith("#"):
        return "\n" not in body
    if not body or body[0] in "-*+>|" or body[0].isdigit():
        return False  # a list item or a table row, not a heading
    return "\n" not in body and len(body.split()) <= 12 and body[-1] not in ".!?:;,"


def _heading_line(body: str) -> int:
    """Where a heading that opens a stretch of text on a line of its own ends (a saved web
    page's "How Immunotherapies Help" above its paragraph), or 0.

    >>> _heading_line("How It Helps\\nImmunotherapies work by retraining it.")
    12
    """
    first, newline, rest = body.partition("\n")
    if not newline or not rest.strip() or first[:1] in "-*+>|" or first[:1].isdigit():
        return 0
    return len(first) if _is_heading(first) else 0


def _is_name(word: str, first: bool) -> bool:
    letters = sum(c.isalpha() for c in word)
    if not letters:
        return False
    if letters < len(word.replace("-", "").replace("'", "").replace("\u2019", "")) and any(c.isdigit() for c in word):
        return True  # letters and digits: KEYNOTE-177, CTLA-4
    if sum(c.isupper() for c in word) >= 2:
        return True  # an acronym or mixed case: MSI-H, mRNA, PD-L1
    lower = word.lower()
    if len(lower) >= 7 and _DRUG_STEM.search(lower):
        return True
    return word[0].isupper() and not first


@dataclass
class _Clause:
    keys: set[Key]
    negated: bool
    question: bool = False
    poles: set[tuple[int, int]] = field(default_factory=set)
    """(scale, +1 or -1): the clause's words at either end of a scale (most/few, ...)."""


@dataclass
class _Claim:
    """A claim analyzed: what its support is measured against."""

    keys: list[Key]
    """Content terms in order, repeats kept."""
    weight: dict[Key, float]
    numbers: set[str]
    names: list[tuple[str, tuple[str, ...]]]
    """(word as written, its forms): every form must be in the passage."""
    rare: list[tuple[Key, str]]
    """(key, word as written)."""
    clauses: list[_Clause]
    query: dict[int, float]
    """Term counts for retrieval."""
    subject: set[Key] = field(default_factory=set)
    """Its subject's terms: what the passage's title or heading may stand for."""
    letters: list[tuple[str, str]] = field(default_factory=list)
    """(name as written, a capital letter standing alone in it): the letter must be in the evidence."""
    words: dict[Key, str] = field(default_factory=dict)
    """Each term as the claim writes it (its first occurrence)."""
    subject_forms: set[str] = field(default_factory=set)
    """The word forms of its subject."""

    def __post_init__(self) -> None:
        self.total = sum(self.weight[k] for k in set(self.keys)) or 1.0
        weights = sorted(self.weight.values())
        median = weights[len(weights) // 2] if weights else 0.0
        self.slots = [(a, m, b) for a, m, b in zip(self.keys, self.keys[1:], self.keys[2:])
                      if len({a, m, b}) == 3 and self.weight[m] >= median]
        # (before, term, after): the slots in which a substituted word is looked for
        pairs = [(a, b) for a, b in zip(self.keys, self.keys[1:]) if a != b]
        self.pairs = list(dict.fromkeys(pairs))
        self.pair_total = sum(self.weight[a] + self.weight[b] for a, b in self.pairs)


@dataclass
class _Sentence:
    """A sentence of a candidate passage: its content terms, word forms, numbers and
    clauses, and the range of its content terms' positions in the passage."""

    keys: set[Key]
    forms: set[str]
    numbers: set[str]
    clauses: list[_Clause]
    lo: int
    hi: int
    heading: _Sentence | None = None
    """The heading this sentence sits under in the passage (the last one before it)."""
    letters: frozenset[str] = frozenset()
    """Its capital letters standing alone (the B of B-cells), which the tokenizer drops."""
    units: list[_Clause] | None = None
    """Its clauses and adjacent pairs of them, as :func:`_units` matches them (made once)."""


@dataclass
class _Passage:
    """A candidate passage analyzed once, whatever the claims it is scored for."""

    record: PassageRecord
    keys: set[Key]
    positions: dict[Key, list[int]]
    """Each content term's positions among the passage's content terms."""
    sentences: list[_Sentence]
    """Its sentences (questions left out: they assert nothing)."""
    title: tuple[set[Key], set[str]] = (set(), set())
    """Its document's title: content terms and word forms."""


class _Analysis:
    """The index's analysis, as citing needs it: keys, idf, and passages analyzed once."""

    def __init__(self, index: Index):
        self.index = index
        self.reader = index.reader
        self.tokenizer = index.analyzer.tokenizer
        self.stopwords = frozenset(index.analyzer.stopwords)
        self.n = index.reader.n_passages
        self.df = np.diff(index.reader.indptr)
        self.rare_df = max(1, RARE_MIN, int(RARE_FRACTION * self.n))
        self.titles: dict[int, tuple[set[Key], set[str]]] = {}
        self.passages: dict[int, _Passage] = {}
        self.keys_of: dict[str, int] = {}

    def idf(self, key: Key) -> float:
        df = int(self.df[key]) if isinstance(key, int) else self.n // 10 if key in STOP_CONTENT else 0
        return math.log((self.n + 1) / (df + 1)) + 1

    def lookup(self, forms: list[str]) -> None:
        """Learn the term ids of ``forms`` (one batch of SQL for many claims or passages)."""
        wanted = [f for f in set(forms) if f not in self.keys_of]
        if wanted:
            found = self.index.analyzer.lookup(wanted)
            for f in wanted:
                self.keys_of[f] = found.get(f, -2)  # -1: stop word, -2: unknown

    def key(self, form: str) -> Key | None:
        term = self.keys_of.get(form, -2)
        if term >= 0:
            return term
        if CONTENT_STOPWORDS and form in STOP_CONTENT:
            return form
        return None if term == -1 or form in self.stopwords else form

    def clauses(self, text: str, spans: list[tuple[int, int, str]]) -> list[_Clause]:
        """The clauses of a text with their content terms and negation; a question's
        clauses assert nothing and are marked so."""
        bounds = [m.end() for m in _CLAUSE.finditer(text)]
        clauses = [_Clause(set(), False) for _ in range(len(bounds) + 1)]
        for s, _, form in spans:
            key = self.key(form)
            if key is not None:
                clauses[bisect_right(bounds, s)].keys.add(key)
        for m in _NEGATION.finditer(text):
            clauses[bisect_right(bounds, m.start())].negated = True
        if POLARITY:
            for at, pole in _poles(text):
                clauses[bisect_right(bounds, at)].poles.add(pole)
        if "?" in text:
            first = 0  # the first clause of the current sentence
            for i, end in enumerate(bounds):
                if text[end - 1] in ".!?":
                    if text[end - 1] == "?":
                        for clause in clauses[first : i + 1]:
                            clause.question = True
                    first = i + 1
        return clauses

    def claim(self, plain: str) -> _Claim:
        spans = list(self.tokenizer.spans(plain))
        keys = [k for _, _, f in spans if (k := self.key(f)) is not None]
        weight = {k: self.idf(k) ** IDF_POWER for k in set(keys)}
        names, letters = [], []
        first = True
        for m in _NAME_WORD.finditer(plain):
            word = re.sub(r"['\u2019]s$", "", m.group())
            if _is_name(word, first) and word.lower() not in self.stopwords:
                forms = tuple(f for f in self.tokenizer.forms(word))
                if forms and not all(f.isdigit() for f in forms):
                    names.append((word, forms))
                # Single letters the tokenizer drops: B-cells is not T-cells, vitamin D not C.
                letters += [(word, c) for c in _LETTER.findall(word)]
            first = False
        named = {f for _, forms in names for f in forms}
        rare, seen = [], set()
        for s, e, f in spans:
            k = self.key(f)
            if k is None or k in seen or f.isdigit() or f in named:
                continue
            seen.add(k)
            if isinstance(k, int) and self.df[k] <= self.rare_df:
                rare.append((k, plain[s:e]))
        query = dict(Counter(k for k in keys if isinstance(k, int)))
        if CONTEXT_SUBJECT:
            verb = _AUXILIARY.search(plain)
            end = verb.start() if verb is not None and len(plain[: verb.start()].split()) <= 8 else -1
            subject = {k for s, _, f in spans if s < end and (k := self.key(f)) is not None} or set(keys[:1])
            subject_forms = {f for s, _, f in spans if s < end} or {f for _, _, f in spans[:1]}
        else:
            subject, subject_forms = set(keys), {f for *_, f in spans}
        words: dict[Key, str] = {}
        for s, e, f in spans:
            if (k := self.key(f)) is not None:
                words.setdefault(k, plain[s:e])
        return _Claim(keys, weight, numbers_in(plain), names, rare, self.clauses(plain, spans), query, subject,
                      letters, words, subject_forms)

    def passage(self, record: PassageRecord) -> _Passage:
        found = self.passages.get(record.row)
        if found is not None:
            return found
        text = record.text
        spans = list(self.tokenizer.spans(text))
        positions: dict[Key, list[int]] = {}
        keyed: list[tuple[int, Key | None]] = []  # (token start, key)
        i = 0
        for s, _, f in spans:
            key = self.key(f)
            keyed.append((s, key))
            if key is not None:
                positions.setdefault(key, []).append(i)
                i += 1
        sentences = []
        heading: _Sentence | None = None
        t = i = 0
        starts = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]
        for lo, hi in zip(starts, starts[1:]):
            first_t, first_i = t, i
            while t < len(spans) and spans[t][0] < hi:
                i += keyed[t][1] is not None
                t += 1
            body = text[lo:hi].rstrip()
            if body.endswith("?") or first_t == t:
                continue
            mine = spans[first_t:t]
            keys = {k for _, k in keyed[first_t:t] if k is not None}
            shifted = [(s - lo, e - lo, f) for s, e, f in mine]
            sentence = _Sentence(
                keys, {f for *_, f in mine}, numbers_in(body), self.clauses(text[lo:hi], shifted), first_i, i, heading,
                frozenset(_LETTER.findall(body)),
            )
            sentences.append(sentence)
            if _is_heading(body):
                heading = sentence
            elif (end := _heading_line(body.lstrip())) > 0:  # a heading line run into the sentence after it
                end += len(body) - len(body.lstrip())
                head = [(f, k) for (s, _, f), (_, k) in zip(mine, keyed[first_t:t]) if s < lo + end]
                heading = _Sentence({k for _, k in head if k is not None}, {f for f, _ in head}, set(), [], 0, 0)
        found = _Passage(record, set(positions), positions, sentences, self.title(record.source))
        self.passages[record.row] = found
        return found

    def title(self, source: SourceRecord) -> tuple[set[Key], set[str]]:
        """A document title's content terms and word forms (its forms looked up already)."""
        found = self.titles.get(source.row)
        if found is None:
            forms = self.tokenizer.forms(source.title or "")
            found = self.titles[source.row] = ({k for f in forms if (k := self.key(f)) is not None}, set(forms))
        return found

    def prepare(self, records: list[PassageRecord]) -> None:
        """Look up the forms of passages about to be analyzed (and their titles), all at once."""
        todo = [r for r in records if r.row not in self.passages]
        titles = {r.source.row: r.source.title for r in todo if r.source.row not in self.titles}
        texts = [*(r.text for r in todo), *titles.values()]
        self.lookup([f for text in texts for f in self.tokenizer.forms(text or "")])


def support(claim: _Claim, passage: _Passage) -> Support:
    """How well ``passage`` supports ``claim``: the best of its windows of one sentence
    or two adjacent ones (see the module for the formula)."""
    best: Support | None = None
    sentences = passage.sentences
    title_keys, title_forms = passage.title
    contexts: dict[int, tuple[set[Key], set[str]]] = {}  # a heading's id: the title's and its words
    for i in range(len(sentences)):
        for j in (i, i + 1) if i + 1 < len(sentences) and sentences[i + 1].lo == sentences[i].hi else (i,):
            window = sentences[i : j + 1]
            keys = window[0].keys | window[-1].keys
            context, forms = title_keys, title_forms
            heading = window[0].heading
            if heading is not None and heading not in window:
                if (found := contexts.get(id(heading))) is None:
                    found = contexts[id(heading)] = (context | heading.keys, forms | heading.forms)
                context, forms = found
            bound = COVERAGE_WEIGHT * _coverage(claim, keys, context) + 1 - COVERAGE_WEIGHT
            if best is not None and bound < best.lexical:
                continue  # cannot beat the best window so far, whatever its agreement
            found = _window_support(claim, passage, window, keys, context, forms)
            if best is None or (found.score, found.lexical) > (best.score, best.lexical):
                best = found
    return best or Support(0.0, 0.0, 0.0, ("(no sentence)",))


def _coverage(claim: _Claim, keys: set[Key], context: set[Key] = frozenset()) -> float:  # type: ignore[assignment]
    """The idf-weighted share of the claim's terms in ``keys`` (those only in ``context``,
    the title or heading, counted :data:`CONTEXT_WEIGHT`)."""
    w = claim.weight
    found = sum(w[k] for k in w if k in keys)
    if CONTEXT_WEIGHT and context:
        found += CONTEXT_WEIGHT * sum(w[k] for k in claim.subject if k in context and k not in keys)
    return found / claim.total


def _window_support(
    claim: _Claim,
    passage: _Passage,
    window: list[_Sentence],
    keys: set[Key],
    context: set[Key] = frozenset(),  # type: ignore[assignment]
    context_forms: set[str] = frozenset(),  # type: ignore[assignment]
) -> Support:
    w = claim.weight
    coverage = _coverage(claim, keys, context)
    lo, hi = window[0].lo, window[-1].hi
    if claim.pairs:
        found = 0.0
        for a, b in claim.pairs:
            pa, pb = passage.positions.get(a), passage.positions.get(b)
            if pa and pb and _near([p for p in pa if lo <= p < hi], [p for p in pb if lo <= p < hi]):
                found += w[a] + w[b]
        agreement = found / claim.pair_total
    else:
        agreement = coverage
    substituted = _substituted(claim, passage, keys | context, lo, hi) if SUBSTITUTION and claim.slots else []
    numbers = set().union(*(s.numbers for s in window))
    forms = set().union(*(s.forms for s in window))
    missing = [n for n in sorted(claim.numbers) if n not in numbers]
    # A name or rare term of the claim's subject may be in the context instead.
    subject_forms = claim.subject_forms if CONTEXT_REQUIRED else ()
    missing += [
        word for word, fs in claim.names
        if not all(f in forms or (f in subject_forms and f in context_forms) for f in fs)
    ]
    if claim.letters:
        letters = set().union(*(s.letters for s in window))
        missing += [word for word, c in claim.letters if c not in letters and word not in missing]
    subject = claim.subject if CONTEXT_REQUIRED else ()
    missing += [
        word for key, word in claim.rare
        if key not in keys and not (key in subject and key in context) and word not in missing
    ]
    missing += [word for word in substituted if word not in missing]
    differs = "" if missing else _negation_differs(claim, window)  # lacking anything, it scores 0 anyway
    lexical = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * agreement
    score = 0.0 if missing or differs else lexical
    return Support(round(score, 4), round(coverage, 4), round(agreement, 4), tuple(dict.fromkeys(missing)),
                   bool(differs), differs == "opposite")


def _substituted(claim: _Claim, passage: _Passage, present: set[Key], lo: int, hi: int) -> list[str]:
    """The claim's terms (of :attr:`_Claim.slots`) that the window lacks and has another
    content word in place of, as written (the term's form for a word the index has)."""
    out = []
    for a, m, b in claim.slots:
        if m in present or a not in present or b not in present:
            continue
        after = {p + 2 for p in passage.positions.get(a, ()) if lo <= p < hi}
        if any(p in after for p in passage.positions.get(b, ()) if lo <= p < hi):
            out.append(claim.words.get(m, str(m)))
    return out


def _near(a: list[int], b: list[int]) -> bool:
    """Whether some position of ``a`` and some of ``b`` are 1..PROXIMITY apart."""
    j = 0
    for p in a:
        while j < len(b) and b[j] < p - PROXIMITY:
            j += 1
        k = j
        while k < len(b) and b[k] <= p + PROXIMITY:
            if b[k] != p:
                return True
            k += 1
    return False


def _units(window: list[_Sentence]) -> list[_Clause]:
    """What a claim's clause is matched against: each clause of the window, and each two
    adjacent ones of a sentence merged (a comma may part a clause's subject from its verb:
    "in pancreatic cancer, immunotherapy has failed"). Questions are left out."""
    out = []
    for sentence in window:
        if sentence.units is None:
            clauses = sentence.clauses
            sentence.units = [c for c in clauses if not c.question] + [
                _Clause(a.keys | b.keys, a.negated or b.negated, False, a.poles | b.poles)
                for a, b in zip(clauses, clauses[1:])
                if not a.question and not b.question and a.keys and b.keys
            ]
        out += sentence.units
    return out


def _opposed(a: set[tuple[int, int]], b: set[tuple[int, int]]) -> bool:
    """Whether ``a`` is at one end of a scale where ``b`` is only at the other."""
    return any((scale, -sign) in b and (scale, sign) not in b and (scale, -sign) not in a for scale, sign in a)


def _negation_differs(claim: _Claim, window: list[_Sentence]) -> str:
    """Whether a clause of the claim disagrees with what matches it in the window: the
    units (clauses, or two adjacent ones of a sentence) sharing the most of its idf weight,
    if that is at least half; else, when its terms are spread over the window, all the
    clauses that share any (if together they hold half). It disagrees when one is negated
    and the other not, or (:data:`POLARITY`) one is at an end of a scale (most, cured,
    increased, higher, ...) where the other is only at the opposite end (few, failed,
    decreased, lower, ...). A tie goes to agreement: it disagrees only with every best unit.
    Returns ``"negation"``, ``"opposite"`` (scale words), or ``""`` when they agree."""
    w = claim.weight
    units = None
    for clause in claim.clauses:
        mass = sum(w[k] for k in clause.keys)
        if not mass:
            continue
        if units is None:
            units = _units(window)
        shares = [(sum(w[k] for k in clause.keys & other.keys), other) for other in units]
        best = max((shared for shared, _ in shares), default=0.0)
        if best >= mass / 2:
            matched = [other for shared, other in shares if shared >= best - 1e-9]
        else:
            sharing = [o for s in window for o in s.clauses if not o.question and clause.keys & o.keys]
            if sum(w[k] for k in clause.keys if any(k in o.keys for o in sharing)) < mass / 2:
                continue
            # Negated if any is, for a negated claim (it needs a negation somewhere among
            # them); for an affirmative one, only if all are.
            negated = any if clause.negated else all
            poles = set().union(*(o.poles for o in sharing))
            matched = [_Clause(set(), negated(o.negated for o in sharing), False, poles)]
        if all(other.negated != clause.negated for other in matched):
            return "negation"
        if all(other.negated != clause.negated or _opposed(clause.poles, other.poles) for other in matched):
            return "opposite"
    return ""


# -- citing ---------------------------------------------------------------------------------


def _refs(record: PassageRecord) -> tuple[PassageRef, SourceRef]:
    s = record.source
    passage = PassageRef(f"{s.id}#{record.ordinal}", s.id, record.ordinal, record.start, record.end, record.text)
    return passage, SourceRef(s.id, s.path, s.title)


def _check_options(max_citations: int, min_support: float | None, candidates: int) -> float:
    if max_citations < 1:
        raise CiteError("max_citations must be at least 1")
    if candidates < 1:
        raise CiteError("candidates must be at least 1")
    threshold = DEFAULT_MIN_SUPPORT if min_support is None else min_support
    if not 0 < threshold <= 1:
        raise CiteError(f"min_support must be above 0 and at most 1, not {threshold}")
    return threshold


class _Scored:
    """A claim's candidates, scored, best first (support, then retrieval order)."""

    def __init__(self, pairs: list[tuple[_Passage, Support]]):
        self.pairs = sorted(pairs, key=lambda p: -p[1].score)  # stable: retrieval order on ties
        self.best = max((s.score for _, s in pairs), default=0.0)

    def supporting(self, threshold: float, limit: int) -> list[tuple[_Passage, Support]]:
        """The best supporting passage of each source, up to ``limit`` sources."""
        out, sources = [], set()
        for p, s in self.pairs:
            if s.score >= threshold and p.record.source.row not in sources:
                sources.add(p.record.source.row)
                out.append((p, s))
        return out[:limit]

    def closest(self) -> tuple[_Passage, Support] | None:
        """The candidate nearest to supporting: the best lexical score."""
        return max(self.pairs, key=lambda p: p[1].lexical, default=None)


class _Citer:
    def __init__(self, index: Index, candidates: int, method: str):
        self.index = index
        self.analysis = _Analysis(index)
        self.candidates = candidates
        self.options = index.options(method=method, expand=None, per_source=None)

    def analyze(self, plains: list[str]) -> list[_Claim]:
        self.analysis.lookup([f for p in plains for f in self.analysis.tokenizer.forms(p)])
        return [self.analysis.claim(p) for p in plains]

    def retrieve(self, claims: list[_Claim]) -> list[list[int]]:
        """Each claim's candidate passage rows, best first; their passages analyzed."""
        rows = []
        for c in claims:
            if not c.query:
                rows.append([])
                continue
            ranking = self.index.ranker.rank(plain_query(""), c.query, self.options, self.candidates)
            rows.append([int(r) for r in ranking.top(self.candidates)[0]])
        self.load(sorted({r for found in rows for r in found}))
        return rows

    def load(self, rows: list[int]) -> None:
        todo = [r for r in rows if r not in self.analysis.passages]
        if todo:
            records = self.index.reader.passages(todo)
            self.analysis.prepare(list(records.values()))
            for r in todo:
                self.analysis.passage(records[r])

    def score(self, claim: _Claim, rows: list[int]) -> _Scored:
        return _Scored([(p, support(claim, p)) for p in (self.analysis.passages[r] for r in rows)])

    def snippet(self, claim: _Claim, text: str) -> str:
        weights = {k: 1.0 for k in claim.query}
        if not weights:
            return " ".join(text.split())[:320]
        return self.index._highlighter(weights)(text)[0]

    def evidence(self, claim: _Claim, pairs, numbers: list[int] | None = None) -> tuple[Evidence, ...]:
        out = []
        for i, (p, s) in enumerate(pairs):
            passage, source = _refs(p.record)
            citation = numbers[i] if numbers else 0
            out.append(Evidence(citation, s.score, passage, source, self.snippet(claim, passage.text), s))
        return tuple(out)


def best_support(index: Index, claims: list[str], candidates: int = CANDIDATES, method: str = "bm25") -> list[Support]:
    """The best support each claim (taken whole, not split) finds among its candidates;
    what :func:`cite` compares with ``min_support``. For calibration and experiments."""
    citer = _Citer(index, candidates, method)
    analyzed = citer.analyze(claims)
    out = []
    for claim, rows in zip(analyzed, citer.retrieve(analyzed)):
        scored = citer.score(claim, rows)
        top = max((s for _, s in scored.pairs), key=lambda s: (s.score, s.lexical), default=None)
        out.append(top or Support(0.0, 0.0, 0.0))
    return out


def cite(
    index: Index,
    text: str,
    max_citations: int = DEFAULT_MAX_CITATIONS,
    min_support: float | None = None,
    candidates: int = CANDIDATES,
    method: str = "bm25",
) -> Citing:
    """Find support in ``index`` for each claim of ``text`` (see the module).

    :param max_citations: at most this many sources cited per claim.
    :param min_support: the support score a passage needs (default: :data:`DEFAULT_MIN_SUPPORT`).
    :param candidates: passages retrieved per claim before scoring support.
    :param method: how candidates are retrieved (``bm25``, ``tfidf``, ``hybrid``).
    """
    threshold = _check_options(max_citations, min_support, candidates)
    sentences = [s for s in split_sentences(text).sentences if is_claim(s)]
    citer = _Citer(index, candidates, method)
    claims = citer.analyze([s.plain for s in sentences])
    found = citer.retrieve(claims)
    chosen: list[tuple[Sentence, _Claim, _Scored, list]] = []
    for sentence, claim, rows in zip(sentences, claims, found):
        scored = citer.score(claim, rows)
        chosen.append((sentence, claim, scored, scored.supporting(threshold, max_citations)))
    numbers, cited = number_sources(_refs(p.record)[1] for *_, picked in chosen for p, _ in picked)
    counts: Counter[int] = Counter()
    out = []
    at = 0
    for sentence, claim, scored, picked in chosen:
        mine = numbers[at : at + len(picked)]
        at += len(picked)
        counts.update(set(mine))
        span = text[sentence.start : sentence.end]
        if picked:
            out.append(
                Claim(span, sentence.start, sentence.end, "supported", scored.best, tuple(mine),
                      citer.evidence(claim, picked, mine), anchor=sentence.anchor)
            )
            continue
        near = scored.closest()
        if near is None:
            reason = "no passage shares a word with it" if claim.query else "none of its words is in the index"
            closest = None
        else:
            reason = near[1].reason() or f"support {near[1].score:.2f} is below {threshold:g}"
            closest = citer.evidence(claim, [near])[0]
        out.append(Claim(span, sentence.start, sentence.end, "unsupported", scored.best, reason=reason,
                         closest=closest, anchor=sentence.anchor))
    sources = [CitedSource(c.citation, c.source, counts[c.citation]) for c in cited]
    return Citing(text, out, sources, threshold)


# -- checking a text's own citations ---------------------------------------------------------

_FOLD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    return " ".join(_FOLD.sub(" ", text.lower()).split())


def _slug(text: str) -> str:
    """The last part of a URL or path, without extensions: what a saved page is named by."""
    tail = text.rstrip("/").rsplit("/", 1)[-1].split("?")[0].split("#")[0]
    while "." in tail and len(tail.rsplit(".", 1)[1]) <= 5:
        tail = tail.rsplit(".", 1)[0]
    return _fold(tail)


def resolve_source(index: Index, entry: SourceEntry) -> tuple[SourceRecord | None, float, str]:
    """The indexed source a listed source names: by path or id, by the name a URL ends
    in, else by title (the closest title among the sources that BM25 finds for it, if
    its difflib ratio reaches :data:`TITLE_MATCH`)."""
    reader = index.reader
    for path in entry.paths:
        by_path = reader.sources_by_path(path) or list(reader.sources(f"*/{path}"))
        if len(by_path) == 1:
            return by_path[0], 1.0, "path"
        if (by_id := reader.source_by_id(path)) is not None:
            return by_id, 1.0, "id"
    if (by_id := reader.source_by_id(entry.title)) is not None:
        return by_id, 1.0, "id"
    title = _fold(entry.title)
    candidates: dict[int, SourceRecord] = {}
    words = entry.title + " " + " ".join(_slug(u) for u in entry.urls)
    if words.strip():
        try:
            ranked = index.rank_documents(plain_query(words), k=20, method="bm25", expand=None)
        except CitesearchError:
            ranked = []
        for doc_id, _ in ranked:
            found = reader.source_by_id(doc_id)
            if found is not None:
                candidates[found.row] = found
    for url in entry.urls:
        slug = _slug(url)
        for found in candidates.values():
            if slug and slug in (_slug(found.path), _slug(found.id)):
                return found, 1.0, "url"
    best, best_ratio = None, 0.0
    for found in candidates.values():
        names = [_fold(found.title), _slug(found.path), _slug(found.id)]
        ratio = max(difflib.SequenceMatcher(None, title, name).ratio() for name in names)
        if ratio > best_ratio:
            best, best_ratio = found, ratio
    if best is not None and title and best_ratio >= TITLE_MATCH:
        return best, best_ratio, "title"
    return None, best_ratio, ""


def _cited_stretches(text: str, sentence: Sentence) -> list[tuple[int, int, str, tuple[int, ...]]]:
    """A sentence's cited stretches: (start, end, plain text, cited numbers). A stretch
    runs from the end of the previous markers (or the sentence's start) to its markers;
    markers with only white space or punctuation between them cite together; a stretch
    too short to be a claim reaches back to the sentence's start."""
    groups: list[list] = []
    for m in sentence.markers:
        between = text[groups[-1][-1].end : m.start] if groups else ""
        if groups and not between.strip(" \t\n,;"):
            groups[-1].append(m)
        else:
            groups.append([m])
    out = []
    start = sentence.start
    for group in groups:
        end = group[0].start
        while end > start and text[end - 1].isspace():
            end -= 1
        s = start
        plain = sentence.plain[s - sentence.start : end - sentence.start]
        if len(content_words(plain)) < 2:
            s = sentence.start
            plain = sentence.plain[: end - sentence.start]
        while s < end and (text[s].isspace() or text[s] in ",;"):
            s += 1
        numbers = tuple(dict.fromkeys(n for m in group for n in m.numbers))
        out.append((s, end, sentence.plain[s - sentence.start : end - sentence.start], numbers))
        start = group[-1].end
    return out


def check(
    index: Index,
    text: str,
    max_citations: int = DEFAULT_MAX_CITATIONS,
    min_support: float | None = None,
    candidates: int = CANDIDATES,
    method: str = "bm25",
) -> Checking:
    """Check the citations ``text`` already has (``[n]`` markers and a numbered source
    list): see the module. Parameters as for :func:`cite`."""
    threshold = _check_options(max_citations, min_support, candidates)
    parsed = split_sentences(text)
    if not parsed.sources:
        raise CiteError(
            "the text has no numbered source list to check against",
            hint="End it with a 'Sources' heading and entries such as '1. Title — URL', or cite it without --check",
        )
    listed = []
    for entry in parsed.sources:
        found, ratio, how = resolve_source(index, entry)
        ref = SourceRef(found.id, found.path, found.title) if found else None
        listed.append(ListedSource(entry.number, entry, ref, ratio, how))
    by_number = {s.number: s for s in listed}
    number_of = {s.source.id: s.number for s in listed if s.source}
    stretches = []
    uncited = 0
    for sentence in parsed.sentences:
        if not is_claim(sentence):
            continue
        if not sentence.markers:
            uncited += 1
            continue
        stretches += _cited_stretches(text, sentence)
    citer = _Citer(index, candidates, method)
    claims = citer.analyze([plain for *_, plain, _ in stretches])
    found_rows = citer.retrieve(claims)
    source_rows: dict[str, list[int]] = {}
    for s in listed:
        if s.source and s.source.id not in source_rows:
            record = index.reader.source_by_id(s.source.id)
            rows = [p.row for p in index.reader.passages_of(record)] if record else []
            source_rows[s.source.id] = rows
            citer.load(rows)
    out = []
    for (start, end, _, numbers), claim, rows in zip(stretches, claims, found_rows):
        cited_ids = [by_number[n].source.id for n in numbers if n in by_number and by_number[n].source]
        span = text[start:end]
        general = citer.score(claim, rows)
        other = [(p, s) for p, s in general.supporting(threshold, max_citations + len(cited_ids))
                 if p.record.source.id not in cited_ids][:1]
        suggestion = suggestion_number = None
        if other:
            suggestion = _refs(other[0][0].record)[1]
            suggestion_number = number_of.get(suggestion.id)
        if not cited_ids:
            missing = [n for n in numbers if n not in by_number]
            reason = (f"no source numbered {', '.join(map(str, missing))} in the list" if missing
                      else "its cited source is not in the index")
            out.append(CheckedCitation(span, start, end, numbers, "not_in_index", 0.0,
                                       citer.evidence(claim, other, [suggestion_number or 0]) if other else (),
                                       suggestion, suggestion_number, reason))
            continue
        own = citer.score(claim, [r for sid in dict.fromkeys(cited_ids) for r in source_rows.get(sid, [])])
        picked = own.supporting(threshold, max_citations)
        if picked:
            cites = [number_of.get(p.record.source.id, 0) for p, _ in picked]
            out.append(CheckedCitation(span, start, end, numbers, "supported", own.best,
                                       citer.evidence(claim, picked, cites)))
            continue
        near = own.closest()
        reason = (near[1].reason() or f"support {near[1].score:.2f} is below {threshold:g}") if near else ""
        if other:
            out.append(CheckedCitation(span, start, end, numbers, "wrong_source", own.best,
                                       citer.evidence(claim, other, [suggestion_number or 0]),
                                       suggestion, suggestion_number, reason))
        else:
            out.append(CheckedCitation(span, start, end, numbers, "unsupported", own.best, reason=reason))
    return Checking(text, out, listed, uncited, threshold)
