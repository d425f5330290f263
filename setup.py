"""The compiled parts of citesearch: the search kernel (citesearch/search/_kernels.c), and
the build's counting of postings (citesearch/indexer/_counting.c), numbering of word forms
(citesearch/indexer/_numbering.c) and weighing (citesearch/indexer/_weighing.c).

Everything else is in pyproject.toml. The extensions are optional: where they cannot be
built (no C compiler), citesearch searches with numpy, counts with scipy, numbers with
numba and weighs with numpy instead, with the same results.
"""

import sys

from setuptools import Extension, setup

# Sums must round exactly as numpy's: no fused multiply-add.
flags = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off"]

kernels = Extension(
    "citesearch.search._kernels", ["citesearch/search/_kernels.c"], extra_compile_args=flags, optional=True
)
counting = Extension(
    "citesearch.indexer._counting", ["citesearch/indexer/_counting.c"], extra_compile_args=flags, optional=True
)
numbering = Extension(
    "citesearch.indexer._numbering", ["citesearch/indexer/_numbering.c"], extra_compile_args=flags, optional=True
)
weighing = Extension(
    "citesearch.indexer._weighing", ["citesearch/indexer/_weighing.c"], extra_compile_args=flags, optional=True
)
setup(ext_modules=[kernels, counting, numbering, weighing])
