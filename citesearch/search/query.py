"""Query syntax.

======================  ===================================================
``word``                a search term (analyzed like the indexed text)
``word*``               any word starting with it (``immuno*``)
``"exact phrase"``      its words must appear together, in this order
``-word``, ``-"a b"``   passages containing it are left out
``source:GLOB``         only sources whose path or id matches the glob
``title:word``          only sources whose title contains the word
======================  ===================================================

Several ``source:`` filters widen each other (any may match); ``title:`` filters
narrow (each must match). A ``field:value`` with another field name is searched as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import QuerySyntaxError

FIELDS = ("source", "title")

_ITEM = re.compile(
    r"""\s*(?P<neg>-?)(?:(?P<field>[A-Za-z]+):)?(?:"(?P<phrase>[^"]*)(?:"|$)|(?P<word>[^\s"]+))""",
)


@dataclass(frozen=True)
class ParsedQuery:
    text: str
    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()

    @property
    def positive_text(self) -> str:
        """The words that contribute to the score (terms and phrase words; prefixes apart)."""
        return " ".join(self.terms + self.phrases)


def plain_query(text: str) -> ParsedQuery:
    """``text`` as plain words, no syntax: for natural-language queries from files."""
    return ParsedQuery(text, terms=(text,))


def parse_query(text: str) -> ParsedQuery:
    """Parse ``text`` into terms, phrases, exclusions and filters.

    >>> q = parse_query('tumor "immune checkpoint" -mouse source:*.md title:review immuno*')
    >>> q.terms, q.phrases, q.excluded, q.sources, q.titles, q.prefixes
    (('tumor',), ('immune checkpoint',), ('mouse',), ('*.md',), ('review',), ('immuno',))
    """
    terms: list[str] = []
    phrases: list[str] = []
    excluded: list[str] = []
    sources: list[str] = []
    titles: list[str] = []
    prefixes: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if not m or m.end() == pos:
            # A lone quote or dash: skip the character rather than fail.
            pos += 1
            continue
        pos = m.end()
        neg, field, phrase, word = m.group("neg"), m.group("field"), m.group("phrase"), m.group("word")
        value = phrase if phrase is not None else word
        if field and field.lower() in FIELDS:
            if not value:
                raise QuerySyntaxError(
                    f"{field}: needs a value, as in {field}:{'*.md' if field == 'source' else 'word'}"
                )
            if field.lower() == "source":
                sources.append(value)
            else:
                titles.append(value)
            continue
        if field:
            value = f"{field}:{value}"
        if not value or not value.strip():
            continue
        if neg:
            excluded.append(value)
        elif phrase is not None:
            phrases.append(value)
        elif value.endswith("*") and len(value.rstrip("*")) > 0 and not field:
            prefixes.append(value.rstrip("*"))
        else:
            terms.append(value)
    return ParsedQuery(
        text, tuple(terms), tuple(phrases), tuple(excluded), tuple(sources), tuple(titles), tuple(prefixes)
    )
