"""Files → documents → passages."""

from .documents import Document, Passage
from .loading import (
    SUPPORTED,
    DocumentReader,
    InputFile,
    JsonlLines,
    LoadReport,
    discover,
    load_documents,
    read_documents,
    read_file,
)
from .passages import DEFAULT_OVERLAP, DEFAULT_WORDS, split_passages

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_WORDS",
    "SUPPORTED",
    "Document",
    "DocumentReader",
    "InputFile",
    "JsonlLines",
    "LoadReport",
    "Passage",
    "discover",
    "load_documents",
    "read_documents",
    "read_file",
    "split_passages",
]
