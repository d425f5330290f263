"""Numbering the word forms of passages, batch by batch, at index time.

A build's workers turn each passage into the ids of its surface forms, numbered in
order of first appearance (stop words and stemming are dealt with afterwards, once per
distinct form). Two interchangeable ways, with the same ids for the same passages:

:class:`FormIds`
    Python: the tokenizer's forms, each looked up in a dict. About 0.4 µs a token,
    most of a build's work at a million passages.
:class:`.compiled.CompiledFormIds`
    the default token pattern's tokenizing and the lookups compiled with numba, over a
    batch's UTF-8 bytes at once: a few times faster. A run of characters that is not
    all ASCII (accents, other scripts) goes back to the tokenizer, which normalizes it;
    its forms are then numbered in the same table. Loading the compiled code takes
    about 0.7 s (and compiling it, the first time, a few seconds), so a build uses it
    only for a large input. It is in :mod:`.compiled`, the one module that imports
    numba; the query path never imports it.
"""

from __future__ import annotations

from array import array
from itertools import islice

import numpy as np

from .analysis import Tokenizer


class FormIds(dict):
    """Form → id in order of first appearance, in Python."""

    def __init__(self, tokenizer: Tokenizer):
        super().__init__()
        self.tokenizer = tokenizer

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value

    def number(self, passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The form ids of every passage, concatenated, and how many each has."""
        number = self.__getitem__
        forms_of = self.tokenizer.forms
        ids = array("i")
        lengths = array("i")
        for text in passages:
            forms = forms_of(text)
            ids.extend(map(number, forms))
            lengths.append(len(forms))
        return np.frombuffer(ids, dtype=np.int32), np.frombuffer(lengths, dtype=np.int32)

    def forms_since(self, start: int) -> list[str]:
        """The forms numbered ``start`` and after, in id order."""
        return list(islice(self, start, None))
