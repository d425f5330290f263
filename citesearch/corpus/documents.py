"""Records that flow out of the corpus step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One source document, with the text that passages point into.

    ``id`` is the document's identity in the index: a file's path relative to the
    directory it was found under, or the ``_id`` of a JSONL record. ``path`` is where
    the document came from, as the user would find it. ``title_declared`` is False when
    the document has no title of its own and ``title`` is only its first line (a JSONL
    record without a ``title`` field): such a title is shown but not weighted as a title.
    """

    id: str
    path: str
    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    title_declared: bool = True


@dataclass(frozen=True)
class Passage:
    """A window of a document, by character offsets: ``document.text[start:end]``."""

    doc_id: str
    ordinal: int
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.doc_id}#{self.ordinal}"
