"""The compiled numbering of word forms gives the Python numbering's ids, and a build
with it the same index."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from conftest import data_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from citesearch.corpus import Document
from citesearch.indexer import builder
from citesearch.indexer.analysis import AnalyzerConfig, Tokenizer
from citesearch.indexer.builder import build_index
from citesearch.indexer.compiled import CompiledFormIds
from citesearch.indexer.numbering import FormIds

TOKENIZER = Tokenizer(AnalyzerConfig())
# Pieces that exercise the tokenizer: case, digits and "_", one-letter words, accents,
# other scripts, characters NFKC expands (ﬁ, ⑴ → "(1)"), non-ASCII separators, a lone
# surrogate (JSON can hold one).
PIECES = st.sampled_from(
    ["Cold", "brew", "x", "42", "a_b", "café", "CAFÉ", "naïve", "ﬁne", "⑴", "Straße", "ΣΊΣΥΦΟΣ",
     "日本語", "\udc80", " ", "  ", "-", ".", "\n", "—", "\u00a0", "’", "é"]
)
PASSAGE = st.lists(PIECES, max_size=25).map("".join)


def _same_numbering(batches: list[list[str]]) -> None:
    python, compiled = FormIds(TOKENIZER), CompiledFormIds(TOKENIZER)
    for passages in batches:
        known = len(python)
        assert len(compiled) == known
        ids, lengths = python.number(passages)
        cids, clengths = compiled.number(passages)
        assert cids.tolist() == ids.tolist()
        assert clengths.tolist() == lengths.tolist()
        assert compiled.forms_since(known) == python.forms_since(known)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(PASSAGE, max_size=6), max_size=4))
def test_compiled_numbering_equals_python(batches):
    _same_numbering(batches)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.text(max_size=40), max_size=6), max_size=3))
def test_compiled_numbering_equals_python_on_any_text(batches):
    _same_numbering(batches)


def test_compiled_numbering_tells_forms_apart_by_every_byte_and_length():
    """Forms of up to 8 bytes are keys of their own, longer ones are compared byte by
    byte, and lengths from 255 on share one value in the table."""
    stems = ["abcdefg", "abcdefgh", "abcdefghi", "zbcdefgh", "abcdefgz", "é" * 4, "é" * 5]
    long = ["q" * n for n in (254, 255, 256, 300)] + ["q" * 299 + "r", "r" + "q" * 299]
    passages = [" ".join(stems + long), " ".join(reversed(stems + long)), " ".join(w.upper() for w in stems + long)]
    _same_numbering([passages[:1], passages[1:]])


def test_compiled_numbering_grows_its_table_and_keeps_ids():
    """Past its first sizes (65,536 slots, 1 MiB of forms) the table is rebuilt."""
    batches = [[" ".join(f"w{i}x{j}" for j in range(1000)) for i in range(k, k + 40)] for k in range(0, 120, 40)]
    _same_numbering(batches + [["W0X0 w119x999 new"]])


def test_compiled_numbering_needs_the_default_token_pattern():
    with pytest.raises(ValueError):
        CompiledFormIds(Tokenizer(AnalyzerConfig(token_pattern=r"\w+")))


def test_the_compiled_numbering_loads():
    assert builder._compiled_numbering() is True


@pytest.mark.parametrize("workers", [1, 2])
def test_a_build_numbering_in_compiled_code_is_the_same(tmp_path, monkeypatch, workers):
    loaded = []
    monkeypatch.setattr(builder, "_compiled_numbering", lambda: loaded.append(True) or True)
    docs = [
        Document(
            f"d{i}", "p", "", f"Word{i % 7} common café text ⑴ number {i}. " * (60 if i % 50 == 0 else 1) + "Naïve—end."
        )
        for i in range(5000)
    ]  # three batches, a few documents of several passages
    for name, compiled_from in (("python", 10**12), ("compiled", 0)):
        monkeypatch.setattr(builder, "COMPILED_FROM", compiled_from)
        build_index(docs, tmp_path / name, workers=workers)
    assert loaded == [True]  # the second build, not the first
    for path in data_dir(tmp_path / "python").glob("*.npy"):
        assert np.array_equal(np.load(path), np.load(data_dir(tmp_path / "compiled") / path.name)), path.name
    for table in ("terms", "forms"):  # (the passages' offsets are arrays)
        rows = [
            sqlite3.connect(data_dir(tmp_path / name) / "store.sqlite")
            .execute(f"SELECT * FROM {table} ORDER BY 1")
            .fetchall()
            for name in ("python", "compiled")
        ]
        assert rows[0] == rows[1], table
