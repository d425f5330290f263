"""Shared fixtures: a tiny corpus written per test, and an index built from it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
EXAMPLES = ROOT / "examples"

needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared (sample corpus and collections) is not beside the project"
)


TINY = {
    "alpha.txt": (
        "Volcanoes of Iceland\n\n"
        "Iceland sits on the Mid-Atlantic Ridge. Its volcanoes erupt often.\n\n"
        "The 2010 eruption of Eyjafjallajökull stopped air traffic across Europe for days."
    ),
    "notes/beta.md": (
        "# Glaciers and climate\n\n"
        "Glaciers retreat as the climate warms.\n\n"
        "## Iceland\n\n"
        "Vatnajökull is the largest glacier in Iceland; it covers active volcanoes."
    ),
    "gamma.html": (
        "<html><head><title>Geysers</title><style>p {color: red}</style></head>"
        "<body><nav>Home | About</nav><h1>Hot springs</h1><p>A geyser erupts when underground water boils.</p>"
        "<script>var tracking = 1;</script>"
        "<p>The Great Geysir in Iceland gave all geysers their name.</p></body></html>"
    ),
}
TINY_JSONL = [
    {
        "_id": "d1",
        "title": "Plate tectonics",
        "text": "The crust is broken into moving plates. Ridges form where plates pull apart.",
        "metadata": {"year": 1965},
    },
    {"_id": "d2", "title": "Tsunamis", "text": "Undersea earthquakes can raise tsunamis that cross whole oceans."},
]


LONG_SENTENCES = [
    "Geothermal power heats most homes in Iceland.",
    "Reykjavik is the northernmost capital of a sovereign state.",
    "Fishing was long the main export of the island.",
    "Hot water from boreholes is piped into the city.",
    "Tourists come to see the northern lights in winter.",
    "Sheep graze on the highland pastures in summer.",
]


def long_text() -> str:
    """A document long enough for several passages, each mentioning Iceland once."""
    lines = ["Living in Iceland", ""]
    for i in range(60):
        lines.append(LONG_SENTENCES[i % len(LONG_SENTENCES)])
        if i % 6 == 5:
            lines.append("")
    return "\n".join(lines)


def write_tiny_corpus(root: Path) -> Path:
    for name, text in TINY.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    with gzip.open(root / "collection.jsonl.gz", "wt", encoding="utf-8") as f:
        for rec in TINY_JSONL:
            f.write(json.dumps(rec) + "\n")
    return root


# -- running the CLI in-process -----------------------------------------------------------


def invoke(*args, env=None, input=None, **extra):
    """Run the CLI in-process; unexpected exceptions propagate (catch_exceptions=False)."""
    from click.testing import CliRunner

    from citesearch.cli import cli

    return CliRunner().invoke(
        cli, [str(a) for a in args], env=env, input=input, catch_exceptions=False, prog_name="citesearch", **extra
    )


def ok(*args, env=None, input=None, **extra):
    """A run that succeeds (exit 0) without a traceback; returns the result."""
    result = invoke(*args, env=env, input=input, **extra)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


def fails(*args, env=None, code=1):
    """A clean failure: no traceback, exit ``code``; returns the result."""
    from click.testing import CliRunner

    from citesearch.cli import cli

    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, prog_name="citesearch")
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    """A folder of five documents in four formats (one gzipped JSONL collection)."""
    return write_tiny_corpus(tmp_path / "corpus")


@pytest.fixture
def built_index(tiny_corpus: Path, tmp_path: Path) -> Path:
    """An index of :func:`tiny_corpus` built with default settings."""
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    out = tmp_path / "index"
    build_index(load_documents([tiny_corpus]), out)
    return out


def data_dir(index: Path) -> Path:
    """The folder that holds an index's files: the generation its manifest names."""
    from citesearch.indexer.manifest import read_manifest

    data = read_manifest(index).data
    return index / data if data else index


def as_format(index: Path, version: int) -> None:
    """Lay a freshly built index out as format ``version`` did where it differs from the
    current one: before 6, the passages' ordinals and offsets were the store's table
    ``passages``, not arrays. (What else changed with the versions, this index does not
    use: its titles, paths and packed texts read the same in any of them.)"""
    import sqlite3

    import numpy as np

    manifest = index / "manifest.json"
    data = json.loads(manifest.read_text())
    folder = data_dir(index)
    if version < 6:
        spans = [np.load(folder / f"passage_{f}.npy") for f in ("source", "ordinal", "start", "end")]
        db = sqlite3.connect(folder / "store.sqlite")
        db.execute(
            'CREATE TABLE passages (row INTEGER PRIMARY KEY, source INTEGER NOT NULL, ordinal INTEGER NOT NULL, '
            'start INTEGER NOT NULL, "end" INTEGER NOT NULL)'
        )
        rows = [(row, *span) for row, span in enumerate(zip(*(a.tolist() for a in spans)))]
        db.executemany("INSERT INTO passages VALUES (?, ?, ?, ?, ?)", rows)
        db.commit()
        db.close()
        data["files"]["store.sqlite"]["bytes"] = (folder / "store.sqlite").stat().st_size
        for name in ("passage_ordinal", "passage_start", "passage_end"):
            (folder / f"{name}.npy").unlink()
            del data["files"][f"{name}.npy"]
    data["format_version"] = version
    manifest.write_text(json.dumps(data))
