"""The one compiled part of citesearch: the search kernel (citesearch/search/_kernels.c).

Everything else is in pyproject.toml. The extension is optional: where it cannot be
built (no C compiler), citesearch searches with numpy instead, with the same results.
"""

import sys

from setuptools import Extension, setup

# Sums must round exactly as numpy's: no fused multiply-add.
flags = [] if sys.platform == "win32" else ["-O2", "-ffp-contract=off"]

kernels = Extension(
    "citesearch.search._kernels", ["citesearch/search/_kernels.c"], extra_compile_args=flags, optional=True
)
setup(ext_modules=[kernels])
