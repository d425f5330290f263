"""Analysis, weighting and the on-disk index.

Importing this package is cheap: NLTK and scikit-learn are imported only by the
functions that build an index.
"""

from .analysis import AnalyzerConfig, Tokenizer
from .bm25 import BM25_VARIANTS, BM25Params
from .storage import FORMAT_VERSION, IndexReader, read_manifest
from .tfidf import TfidfParams

__all__ = [
    "BM25_VARIANTS",
    "FORMAT_VERSION",
    "AnalyzerConfig",
    "BM25Params",
    "IndexReader",
    "TfidfParams",
    "Tokenizer",
    "read_manifest",
]
