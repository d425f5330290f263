"""Crashes and concurrency, with real processes: ``kill -9`` at random moments of index,
update and remove; workers that outlive their parent; two writers; readers during updates."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, data_dir

from citesearch.indexer.locking import writer_lock
from citesearch.search.searcher import Index

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc")


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "citesearch", *map(str, args)]


def _run(*args, timeout=60) -> subprocess.CompletedProcess:
    return subprocess.run(_cli(*args), capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def _group(pgid: int) -> list[int]:
    """Processes still in a process group."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _corpus(root: Path, version: int) -> Path:
    """About 4,000 documents: a build takes a second or two, with worker processes."""
    root.mkdir(exist_ok=True)
    rng = random.Random(version)
    words = [f"w{i}" for i in range(2000)] + ["volcano", "lava", "glacier"]
    for part in range(4):
        lines = [
            json.dumps({"_id": f"{part}-{i}", "title": f"Doc {i}", "text": " ".join(rng.choices(words, k=120))})
            for i in range(1000)
        ]
        (root / f"part{part}.jsonl").write_text("\n".join(lines) + "\n")
    (root / "lava.txt").write_text(f"Lava flows, version {version}. The volcano erupted.")
    return root


def _check(index: Path) -> None:
    verify = _run("info", "--index", index, "--verify")
    assert verify.returncode == 0, verify.stderr
    assert "all files match" in verify.stderr
    found = _run("search", "volcano lava", "--index", index, "--format", "json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"]


def test_kill_9_at_any_moment_leaves_the_old_index_or_the_new(tmp_path):
    corpus = _corpus(tmp_path / "docs", 0)
    index = tmp_path / "index"
    assert _run("index", corpus, "--index", index).returncode == 0
    started = time.perf_counter()
    _run("index", corpus, "--index", index, "--rebuild")
    full = time.perf_counter() - started
    rng = random.Random(7)
    commands = [
        lambda v: ["index", _corpus(corpus, v), "--index", index],  # an update (every file changed)
        lambda v: ["index", corpus, "--index", index, "--rebuild"],
        lambda v: ["remove", "lava.txt", "--index", index],
        lambda v: ["index", corpus, "--index", index],  # puts lava.txt back
    ]
    for attempt in range(12):
        args = commands[attempt % len(commands)](attempt)
        proc = subprocess.Popen(_cli(*args), cwd=ROOT, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, full))
        proc.send_signal(signal.SIGKILL)  # the parent only: its workers must go by themselves
        proc.wait()
        deadline = time.monotonic() + 5
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _group(proc.pid), f"workers outlived their parent (attempt {attempt})"
        _check(index)
    # The next writer cleans up what the killed ones left.
    assert _run("index", corpus, "--index", index).returncode == 0
    _check(index)
    current = data_dir(index).name
    assert sorted(p.name for p in index.iterdir()) == sorted([current, "lock", "manifest.json"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".index.")]


def test_a_second_writer_waits_or_fails_with_no_wait(tmp_path):
    corpus = _corpus(tmp_path / "docs", 0)
    index = tmp_path / "index"
    assert _run("index", corpus, "--index", index).returncode == 0
    with writer_lock(index):
        refused = _run("index", corpus, "--index", index, "--no-wait")
        assert refused.returncode == 1
        assert f"pid {os.getpid()}" in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) <= 2  # the error and its hint
        waiting = subprocess.Popen(_cli("remove", "lava.txt", "--index", index), cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting for the lock
    out, err = waiting.communicate(timeout=60)
    assert waiting.returncode == 0, err
    assert f"Waiting for pid {os.getpid()}" in err and "Removed 1 document" in err


def test_a_dead_writers_lock_is_taken_over(tmp_path):
    corpus = _corpus(tmp_path / "docs", 0)
    index = tmp_path / "index"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from citesearch.indexer.locking import writer_lock\n"
         "with writer_lock(sys.argv[1]):\n    print('held', flush=True); time.sleep(60)", str(index)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.wait()
    result = _run("index", corpus, "--index", index, "--no-wait")
    assert result.returncode == 0, result.stderr


def test_readers_never_see_a_half_written_index(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Volcanoes erupt lava. " * 5)
    (docs / "b.txt").write_text("Glaciers carve fjords. " * 5)
    index = tmp_path / "index"
    assert _run("index", docs, "--index", index).returncode == 0
    expected = set()
    for text in ("Lava lakes glow at night.", "Lava tubes drain the flow. Lava cools."):
        (docs / "c.txt").write_text(text)
        assert _run("index", docs, "--index", index).returncode == 0
        with Index.open(index) as idx:
            expected.add(tuple((r.passage.id, round(r.score, 6)) for r in idx.search("lava").results))
    assert len(expected) == 2
    stop = threading.Event()

    def updates():
        flip = 0
        while not stop.is_set():
            (docs / "c.txt").write_text(("Lava lakes glow at night.", "Lava tubes drain the flow. Lava cools.")[flip])
            flip = 1 - flip
            _run("index", docs, "--index", index)

    writer = threading.Thread(target=updates)
    writer.start()
    seen, opened = set(), 0
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            with Index.open(index) as idx:
                got = tuple((r.passage.id, round(r.score, 6)) for r in idx.search("lava").results)
                assert got in expected
                time.sleep(0.01)  # an update may commit while this one is open: it still answers
                assert tuple((r.passage.id, round(r.score, 6)) for r in idx.search("lava").results) == got
            seen.add(got)
            opened += 1
    finally:
        stop.set()
        writer.join()
    assert opened > 50 and len(seen) == 2


def test_batch_on_an_index_that_cannot_be_opened_fails_once(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Volcanoes erupt lava.")
    index = tmp_path / "index"
    assert _run("index", docs, "--index", index).returncode == 0
    (data_dir(index) / "store.sqlite").write_bytes(b"not a database" * 1000)
    queries = tmp_path / "q.tsv"
    queries.write_text("".join(f"{i}\tlava {i}\n" for i in range(100)))
    result = _run("batch", queries, "--index", index, "-o", tmp_path / "run.trec", timeout=30)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "damaged" in result.stderr
    assert not (tmp_path / "run.trec").exists()


def _limited(limit: int):
    """A child whose files may not grow past ``limit`` bytes: writes beyond fail (EFBIG),
    as on a full disk."""
    import resource

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_during_a_build_or_update_is_one_line_and_keeps_the_index(tmp_path):
    corpus = _corpus(tmp_path / "docs", 0)
    index = tmp_path / "index"
    assert _run("index", corpus, "--index", index).returncode == 0
    before = (index / "manifest.json").read_bytes()
    for args in (["index", _corpus(corpus, 1), "--index", index], ["index", corpus, "--index", index, "--rebuild"]):
        result = subprocess.run(_cli(*args), capture_output=True, text=True, cwd=ROOT, timeout=120,
                                preexec_fn=_limited(1 << 20))
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert "Traceback" not in result.stderr and lines[-1].startswith("Error: "), result.stderr
        assert "space" in lines[-1] or "too large" in lines[-1] or "disk" in lines[-1]
        assert (index / "manifest.json").read_bytes() == before
        _check(index)
        assert sorted(p.name for p in index.iterdir()) == sorted([data_dir(index).name, "lock", "manifest.json"])


def test_an_index_folder_that_cannot_be_made_is_one_line(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Volcanoes erupt lava.")
    result = _run("index", docs, "--index", docs / "a.txt" / "index")  # its parent is a file
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ") and len(result.stderr.strip().splitlines()) == 1, result.stderr
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if not os.access(locked, os.W_OK):  # not as root, who may write anywhere
            result = _run("index", docs, "--index", locked / "index")
            assert result.returncode == 1 and "Traceback" not in result.stderr
            assert result.stderr.startswith("Error: ") and "ermission denied" in result.stderr
    finally:
        locked.chmod(0o700)
