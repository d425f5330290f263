"""The parts of NLTK citesearch uses — the Punkt sentence splitter and the Snowball and
Porter stemmers — loaded without running ``nltk/__init__``.

``from nltk.stem.snowball import SnowballStemmer`` runs ``nltk/__init__``, which imports
most of NLTK and, through it, much of scipy: 1.3–1.5 s on this project's machine, a
quarter of a 200k-passage build and most of an update. The three modules themselves need
only a few small ones (``nltk.probability``, ``nltk.tokenize.api``, ``nltk.stem.api``,
...). So, when NLTK is not imported yet, the packages ``nltk``, ``nltk.tokenize``,
``nltk.stem`` and ``nltk.corpus`` are stood in for by bare package objects while the three
load (~0.1 s; ``nltk.corpus`` offers only the name ``stopwords``, which the Snowball
stemmer reads and uses only with ``ignore_stopwords``), then taken out of ``sys.modules``
again, so that a later ``import nltk`` gets the real package. They are the same classes,
so stems and splits are the same (tested). If anything fails (a future NLTK), NLTK is
imported the ordinary way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types
from functools import lru_cache

_MODULES = ("nltk.tokenize.punkt", "nltk.stem.snowball", "nltk.stem.porter")
_STAND_INS = ("nltk", "nltk.tokenize", "nltk.stem", "nltk.corpus")


@lru_cache(maxsize=1)
def modules() -> dict[str, types.ModuleType]:
    """The three modules, by name, loaded once."""
    if "nltk" not in sys.modules:
        light = _light()
        if light is not None:
            return light
    return {name: importlib.import_module(name) for name in _MODULES}


def _light() -> dict[str, types.ModuleType] | None:
    spec = importlib.util.find_spec("nltk")
    if spec is None or spec.origin is None:
        return None
    root = os.path.dirname(spec.origin)
    before = set(sys.modules)
    try:
        for name in _STAND_INS:
            package = types.ModuleType(name)
            package.__path__ = [os.path.join(root, *name.split(".")[1:])]
            if name == "nltk.corpus":
                package.stopwords = None  # type: ignore[attr-defined]
            sys.modules[name] = package
        return {name: importlib.import_module(name) for name in _MODULES}
    except Exception:  # noqa: BLE001 - any failure: import NLTK the ordinary way
        return None
    finally:
        for name in set(sys.modules) - before:
            if name == "nltk" or name.startswith("nltk."):
                del sys.modules[name]


def punkt() -> types.ModuleType:
    return modules()["nltk.tokenize.punkt"]


def snowball() -> types.ModuleType:
    return modules()["nltk.stem.snowball"]


def porter() -> types.ModuleType:
    return modules()["nltk.stem.porter"]
