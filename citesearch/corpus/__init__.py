"""Files → documents → passages."""

from .documents import Document, Passage
from .loading import SUPPORTED, InputFile, LoadReport, discover, load_documents, read_documents, read_file
from .passages import DEFAULT_OVERLAP, DEFAULT_WORDS, split_passages

__all__ = [
    "DEFAULT_OVERLAP",
    "DEFAULT_WORDS",
    "SUPPORTED",
    "Document",
    "InputFile",
    "LoadReport",
    "Passage",
    "discover",
    "load_documents",
    "read_documents",
    "read_file",
    "split_passages",
]
