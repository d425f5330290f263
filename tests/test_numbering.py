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


def _numbered_with(functions, batches: list[list[str]]):
    """CompiledFormIds's ids, lengths and state after ``batches``, its loops ``functions``
    ((scan, number, rehash))."""
    from citesearch.indexer import compiled

    saved = compiled._scan, compiled._number, compiled._rehash
    compiled._scan, compiled._number, compiled._rehash = functions
    try:
        forms = CompiledFormIds(TOKENIZER)
        out = [tuple(a.tolist() for a in forms.number(passages)) for passages in batches]
        used = int(forms.ends[forms.n_forms])
        return out, forms.n_forms, forms.table.tolist(), forms.arena[:used].tolist(), forms.ends.tolist()
    finally:
        compiled._scan, compiled._number, compiled._rehash = saved


def test_the_c_numbering_is_numbas_table_for_table():
    """The C loops (built at install) and numba's (where they are not) leave the same
    ids and the same hash table, arena and ends: across the table's growth, long forms,
    non-ASCII runs."""
    numba_numbering = pytest.importorskip("citesearch.indexer._numba_numbering")
    c_numbering = pytest.importorskip("citesearch.indexer._numbering")
    batches = [[" ".join(f"w{i}x{j}" for j in range(1000)) for i in range(k, k + 40)] for k in range(0, 120, 40)]
    batches += [["café CAFÉ naïve " + "q" * 300 + " Straße 日本語 ⑴ x 42 a_b"], ["W0X0 w119x999 new " + "r" * 9]]
    c = (c_numbering.scan, c_numbering.number, c_numbering.rehash)
    numba = (numba_numbering._scan, numba_numbering._number, numba_numbering._rehash)
    assert _numbered_with(c, batches) == _numbered_with(numba, batches)


def test_the_c_numbering_refuses_what_would_write_out_of_bounds():
    c = pytest.importorskip("citesearch.indexer._numbering")
    from citesearch.indexer.compiled import _FOLD

    buf = _FOLD[np.frombuffer(b"ab cd", dtype=np.uint8)]  # folded: the space is 0
    bounds = np.array([0, 5], dtype=np.int64)
    small = np.empty(1, dtype=np.int64)  # room for one token of two
    with pytest.raises(ValueError):
        c.scan(buf, bounds, small, small.copy(), np.empty(1, dtype=np.bool_), np.empty(1, dtype=np.int32))
    with pytest.raises(ValueError):  # bounds past the buffer
        c.scan(buf, np.array([0, 9], dtype=np.int64), *(np.empty(4, dtype=np.int64) for _ in range(2)),
               np.empty(4, dtype=np.bool_), np.empty(1, dtype=np.int32))
    starts, stops = np.array([0, 3], dtype=np.int64), np.array([2, 5], dtype=np.int64)
    out = np.empty(2, dtype=np.int32)

    def number(stops=stops, slots=4, arena=16):
        table = np.full(2 * slots, -1, dtype=np.int64)
        return c.number(buf, starts, stops, table, np.zeros(arena, dtype=np.uint8), np.zeros(4, dtype=np.int64), 0, out)

    with pytest.raises(ValueError):
        number(arena=3)  # no room in the arena for the second form
    with pytest.raises(ValueError):
        number(stops=stops + 9)  # a token past the buffer
    with pytest.raises(ValueError):
        number(slots=3)  # not a power of two of slots
    assert number() == 2 and out.tolist() == [0, 1]


def test_a_large_build_loads_no_numba_when_the_c_numbering_is_built(tmp_path):
    pytest.importorskip("citesearch.indexer._numbering")
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from citesearch.corpus import Document\n"
        "from citesearch.indexer import builder\n"
        "builder.COMPILED_FROM = 0\n"
        "docs = [Document(f'd{i}', 'p', '', f'word{i} text') for i in range(50)]\n"
        f"builder.build_index(docs, {str(tmp_path / 'i')!r})\n"
        "assert builder._compiled_numbering() and 'numba' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
