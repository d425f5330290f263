"""Analysis, weighting and the on-disk index.

Importing this package is cheap: NLTK is imported only by the functions that build an
index (and scikit-learn only by NLTK's import, when it is installed; citesearch uses none
of it).
"""

from .analysis import AnalyzerConfig, Tokenizer
from .bm25 import BM25_VARIANTS, BM25Params
from .manifest import FORMAT_VERSION, Manifest, read_manifest
from .storage import IndexReader
from .tfidf import TfidfParams

__all__ = [
    "BM25_VARIANTS",
    "FORMAT_VERSION",
    "AnalyzerConfig",
    "BM25Params",
    "IndexReader",
    "Manifest",
    "TfidfParams",
    "Tokenizer",
    "read_manifest",
]
