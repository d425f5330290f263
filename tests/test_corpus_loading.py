"""Finding input files and reading them into documents (citesearch.corpus.loading)."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from conftest import TINY, TINY_JSONL

from citesearch.corpus import Document, LoadReport, discover, load_documents, read_documents, read_file
from citesearch.errors import CorpusError, NoInputError


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def ids(files) -> list[str]:
    return [f.doc_id for f in files]


def load(paths, **kwargs) -> tuple[list[Document], LoadReport]:
    report = kwargs.pop("report", None) or LoadReport()
    docs = list(load_documents(paths, report=report, **kwargs))
    return docs, report


# --- discover ------------------------------------------------------------------------------


def test_discover_walks_recursively_in_a_stable_order(tmp_path):
    root = tmp_path / "c"
    for name in ["b.txt", "a.md", "z/y.rst", "z/deeper/x.html", "m/n.txt", "C.txt"]:
        write(root / name, "text")
    expected = ["C.txt", "a.md", "b.txt", "m/n.txt", "z/y.rst", "z/deeper/x.html"]
    assert ids(discover([root])) == expected
    assert ids(discover([root])) == expected  # same again
    assert [f.display for f in discover([root])] == [(root / i).as_posix() for i in expected]


def test_discover_tiny_corpus(tiny_corpus):
    assert ids(discover([tiny_corpus])) == ["alpha.txt", "collection.jsonl.gz", "gamma.html", "notes/beta.md"]


def test_discover_keeps_the_order_of_its_arguments(tmp_path):
    a = write(tmp_path / "a" / "one.txt", "x")
    b = write(tmp_path / "b" / "two.txt", "x")
    assert ids(discover([b.parent, a.parent])) == ["two.txt", "one.txt"]


@pytest.mark.parametrize(
    "include, exclude, expected",
    [
        (["*.md"], [], ["notes/a.md", "notes/drafts/b.md"]),
        ([], ["drafts/*"], ["keep.txt", "page.html", "notes/a.md", "notes/drafts/b.md"]),
        ([], ["notes/drafts/*"], ["keep.txt", "page.html", "notes/a.md"]),
        (["*.md", "*.html"], ["notes/drafts/*"], ["page.html", "notes/a.md"]),
        (["notes/*"], [], ["notes/a.md", "notes/drafts/b.md"]),
        ([], ["keep.txt"], ["page.html", "notes/a.md", "notes/drafts/b.md"]),
        (["*.rst"], [], []),
    ],
)
def test_discover_include_and_exclude_globs(tmp_path, include, exclude, expected):
    root = tmp_path / "c"
    for name in ["keep.txt", "notes/a.md", "notes/drafts/b.md", "page.html"]:
        write(root / name, "text")
    assert ids(discover([root], include=include, exclude=exclude)) == expected


def test_discover_skips_hidden_files_and_directories(tmp_path):
    root = tmp_path / "c"
    for name in ["seen.txt", ".hidden.txt", ".git/config.txt", "sub/.cache/x.md", "sub/ok.md"]:
        write(root / name, "text")
    assert ids(discover([root])) == ["seen.txt", "sub/ok.md"]


def test_discover_walks_a_hidden_directory_named_directly(tmp_path):
    root = tmp_path / ".corpus"
    write(root / "a.txt", "text")
    assert ids(discover([root])) == ["a.txt"]


def test_discover_skips_unsupported_extensions_in_a_directory(tmp_path):
    root = tmp_path / "c"
    for name in ["a.txt", "b.log", "c.pdf", "d.json", "e.tar.gz", "f", "g.md.bak", "h.jsonl"]:
        write(root / name, "text")
    assert ids(discover([root])) == ["a.txt", "h.jsonl"]


def test_discover_takes_upper_case_extensions(tmp_path):
    root = tmp_path / "c"
    write(root / "README.MD", "# Upper\n\ntext")
    write(root / "NOTES.TXT.GZ", gzip.compress(b"Notes\n\ntext"))
    assert ids(discover([root])) == ["NOTES.TXT.GZ", "README.MD"]
    docs, _ = load([root])
    assert [(d.id, d.title) for d in docs] == [("NOTES.TXT.GZ", "Notes"), ("README.MD", "Upper")]


def test_a_file_named_directly_is_always_taken(tmp_path):
    log = write(tmp_path / "server.log", "Boot log\nstarted")
    hidden = write(tmp_path / ".secret.txt", "Hidden\ntext")
    files = discover([log, hidden], include=["*.md"], exclude=["*.log"])
    assert ids(files) == ["server.log", ".secret.txt"]
    docs, report = load([log])
    assert [(d.id, d.title, d.text) for d in docs] == [("server.log", "Boot log", "Boot log\nstarted")]
    assert report.errors == []


def test_a_relative_file_named_directly_keeps_its_relative_path_as_id(tmp_path, monkeypatch):
    write(tmp_path / "notes" / "a.txt", "text")
    monkeypatch.chdir(tmp_path)
    (f,) = discover(["notes/a.txt"])
    assert (f.doc_id, f.display) == ("notes/a.txt", "notes/a.txt")


def test_nonexistent_path_is_an_error_and_other_paths_are_still_read(tmp_path):
    good = write(tmp_path / "good.txt", "Good\ntext")
    missing = tmp_path / "missing"
    docs, report = load([missing, good])
    assert [d.id for d in docs] == ["good.txt"]
    assert report.errors == [f"{missing}: no such file or directory"]


def test_nonexistent_path_raises_in_strict_mode(tmp_path):
    missing = tmp_path / "nope.txt"
    with pytest.raises(CorpusError) as info:
        discover([missing], report=LoadReport(strict=True))
    assert info.value.path == str(missing)
    assert info.value.line is None


# --- symbolic links --------------------------------------------------------------------


def test_symlinked_file_leading_outside_is_skipped_and_reported(tmp_path):
    outside = write(tmp_path / "outside.txt", "secret")
    root = tmp_path / "c"
    write(root / "a.txt", "text")
    os.symlink(outside, root / "link.txt")
    report = LoadReport()
    assert ids(discover([root], report=report)) == ["a.txt"]
    assert report.outside_links == [(root / "link.txt").as_posix()]


def test_symlinked_directory_leading_outside_is_skipped_and_reported(tmp_path):
    outside = tmp_path / "elsewhere"
    write(outside / "x.txt", "secret")
    root = tmp_path / "c"
    write(root / "a.txt", "text")
    os.symlink(outside, root / "linked")
    report = LoadReport()
    assert ids(discover([root], report=report)) == ["a.txt"]
    assert report.outside_links == [(root / "linked").as_posix()]


def test_symlinked_file_inside_root_is_followed(tmp_path):
    root = tmp_path / "c"
    write(root / "sub" / "real.txt", "Real\ntext")
    os.symlink(root / "sub" / "real.txt", root / "alias.txt")
    report = LoadReport()
    assert ids(discover([root], report=report)) == ["alias.txt", "sub/real.txt"]
    assert report.outside_links == []
    docs, _ = load([root])
    assert [(d.id, d.text) for d in docs] == [("alias.txt", "Real\ntext"), ("sub/real.txt", "Real\ntext")]


def test_symlinked_directory_inside_root_is_not_reported_as_leading_outside(tmp_path):
    root = tmp_path / "c"
    write(root / "real" / "x.txt", "text")
    os.symlink("real", root / "zlink")  # relative target, inside the root
    report = LoadReport()
    found = ids(discover([root], report=report))
    assert "real/x.txt" in found
    assert report.outside_links == []


def test_real_directory_is_not_reported_as_an_outside_link_when_a_link_to_it_comes_first(tmp_path):
    root = tmp_path / "c"
    write(root / "b" / "x.txt", "text")
    os.symlink("b", root / "a")  # "a" sorts (and is walked) before the real "b"
    report = LoadReport()
    found = ids(discover([root], report=report))
    assert "b/x.txt" in found
    assert report.outside_links == []


def test_symlink_loop_does_not_hang(tmp_path):
    root = tmp_path / "c"
    write(root / "a.txt", "text")
    os.symlink(".", root / "loop")
    assert ids(discover([root]))[0] == "a.txt"
    assert ids(discover([root])).count("a.txt") == 1


# --- formats, gzip and ids -------------------------------------------------------------------

FORMAT_SAMPLES = [
    ("doc.txt", "Plain title\n\nPlain body.", "Plain title", "Plain title\n\nPlain body."),
    ("doc.text", "Text title\nbody", "Text title", "Text title\nbody"),
    ("doc.md", "# MD title\n\nBody.", "MD title", "# MD title\n\nBody."),
    ("doc.markdown", "Setext\n======\n\nBody.", "Setext", "Setext\n======\n\nBody."),
    ("doc.rst", "RST title\n=========\n\nBody.", "RST title", "RST title\n=========\n\nBody."),
    (
        "doc.html",
        "<html><head><title>HTML title</title></head><p>One.</p><p>Two.</p></html>",
        "HTML title",
        "One.\n\nTwo.",
    ),
    ("doc.htm", "<h1>HTM title</h1><p>Body.</p>", "HTM title", "HTM title\n\nBody."),
]


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("name, content, title, text", FORMAT_SAMPLES, ids=[s[0] for s in FORMAT_SAMPLES])
def test_every_format_and_its_gz_variant_is_read(tmp_path, name, content, title, text, gz):
    root = tmp_path / "c"
    if gz:
        name += ".gz"
        write(root / name, gzip.compress(content.encode("utf-8")))
    else:
        write(root / name, content)
    docs, report = load([root])
    assert docs == [Document(id=name, path=(root / name).as_posix(), title=title, text=text)]
    assert (report.files, report.documents, report.errors) == (1, 1, [])


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
def test_jsonl_collection_and_its_gz_variant(tmp_path, gz):
    lines = "".join(json.dumps(r) + "\n" for r in TINY_JSONL).encode("utf-8")
    name = "coll.jsonl.gz" if gz else "coll.jsonl"
    path = write(tmp_path / "c" / name, gzip.compress(lines) if gz else lines)
    docs, report = load([tmp_path / "c"])
    assert docs == [
        Document(
            id="d1",
            path=path.as_posix(),
            title="Plate tectonics",
            text="Plate tectonics\n\nThe crust is broken into moving plates. Ridges form where plates pull apart.",
            metadata={"year": 1965},
        ),
        Document(
            id="d2",
            path=path.as_posix(),
            title="Tsunamis",
            text="Tsunamis\n\nUndersea earthquakes can raise tsunamis that cross whole oceans.",
            metadata={},
        ),
    ]
    assert (report.files, report.documents, report.errors) == (1, 2, [])


def test_tiny_corpus_documents(tiny_corpus):
    docs, report = load([tiny_corpus])
    assert [(d.id, d.title) for d in docs] == [
        ("alpha.txt", "Volcanoes of Iceland"),
        ("d1", "Plate tectonics"),
        ("d2", "Tsunamis"),
        ("gamma.html", "Geysers"),
        ("notes/beta.md", "Glaciers and climate"),
    ]
    by_id = {d.id: d for d in docs}
    assert by_id["alpha.txt"].text == TINY["alpha.txt"]
    assert by_id["notes/beta.md"].text == TINY["notes/beta.md"]
    assert by_id["notes/beta.md"].path == (tiny_corpus / "notes" / "beta.md").as_posix()
    assert by_id["gamma.html"].text == (
        "Hot springs\n\nA geyser erupts when underground water boils.\n\n"
        "The Great Geysir in Iceland gave all geysers their name."
    )
    assert (report.files, report.documents) == (4, 5)
    assert report.errors == [] and report.warnings() == []


@pytest.mark.parametrize(
    "record, expected_title, expected_text",
    [
        ({"_id": "t", "title": "Only a title"}, "Only a title", "Only a title"),
        ({"_id": "t", "text": "First line\nsecond line"}, "First line", "First line\nsecond line"),
        ({"_id": "t", "title": "  Padded  ", "text": "Body."}, "Padded", "Padded\n\nBody."),
        ({"_id": "t", "title": "Title", "text": "   "}, "Title", "Title"),
        ({"_id": "t", "title": None, "text": "Body."}, "Body.", "Body."),
    ],
)
def test_jsonl_title_and_text_are_combined(tmp_path, record, expected_title, expected_text):
    path = write(tmp_path / "c.jsonl", json.dumps(record) + "\n")
    (doc,), _ = load([path])
    assert (doc.id, doc.title, doc.text) == ("t", expected_title, expected_text)


def test_jsonl_non_string_id_and_non_dict_metadata(tmp_path):
    path = write(tmp_path / "c.jsonl", json.dumps({"_id": 7, "text": "Body.", "metadata": ["not", "a", "dict"]}) + "\n")
    (doc,), _ = load([path])
    assert (doc.id, doc.metadata) == ("7", {})


def test_jsonl_blank_lines_and_crlf_are_fine(tmp_path):
    content = '{"_id": "a", "text": "A."}\r\n\r\n   \r\n{"_id": "b", "text": "B."}\r\n'
    path = write(tmp_path / "c.jsonl", content)
    docs, report = load([path])
    assert [(d.id, d.text) for d in docs] == [("a", "A."), ("b", "B.")]
    assert report.errors == []


def test_jsonl_text_with_unicode_line_separators_is_one_record(tmp_path):
    # json.dumps(ensure_ascii=False) writes U+2028 and U+0085 unescaped: they are not line ends in JSONL.
    records = [{"_id": "a", "text": "one\u2028two\x85three"}, {"_id": "b", "text": "B."}]
    path = write(tmp_path / "c.jsonl", "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    docs, report = load([path])
    assert report.errors == []
    assert [(d.id, d.text) for d in docs] == [("a", "one\u2028two\x85three"), ("b", "B.")]


def test_utf8_bom_is_removed(tmp_path):
    path = write(tmp_path / "bom.txt", "\ufeffTitle line\nbody".encode("utf-8"))
    (doc,), report = load([path])
    assert (doc.title, doc.text) == ("Title line", "Title line\nbody")
    assert report.invalid_utf8 == {}


# --- bad input -------------------------------------------------------------------------------


def test_binary_file_is_skipped_and_counted(tmp_path):
    root = tmp_path / "c"
    binary = write(root / "image.txt", b"GIF89a\x00\x01\x02 text")
    write(root / "ok.txt", "fine")
    docs, report = load([root])
    assert [d.id for d in docs] == ["ok.txt"]
    assert report.binary == [binary.as_posix()]
    assert report.errors == []


def test_binary_gz_file_is_skipped_and_counted(tmp_path):
    root = tmp_path / "c"
    binary = write(root / "blob.md.gz", gzip.compress(b"abc\x00def"))
    write(root / "ok.txt", "fine")
    docs, report = load([root])
    assert [d.id for d in docs] == ["ok.txt"]
    assert report.binary == [binary.as_posix()]


@pytest.mark.parametrize(
    "name, data",
    [
        ("empty.txt", b""),
        ("blank.md", b"  \n\n\t \n"),
        ("empty.txt.gz", gzip.compress(b"")),
        ("scripts.html", b"<html><body><script>x()</script></body></html>"),
        ("empty.jsonl", b"\n\n"),
    ],
)
def test_empty_file_is_skipped_and_counted(tmp_path, name, data):
    root = tmp_path / "c"
    empty = write(root / name, data)
    write(root / "ok.txt", "fine")
    docs, report = load([root])
    assert [d.id for d in docs] == ["ok.txt"]
    assert report.empty == [empty.as_posix()]
    assert report.errors == []


def test_invalid_utf8_is_replaced_and_counted(tmp_path):
    path = write(tmp_path / "latin1.txt", "Café au lait\nthé".encode("latin-1"))
    (doc,), report = load([path])
    assert doc.text == "Caf\ufffd au lait\nth\ufffd"
    assert doc.title == "Caf\ufffd au lait"
    assert report.invalid_utf8 == {path.as_posix(): 2}
    assert report.errors == []


def test_valid_utf8_is_not_counted(tmp_path):
    path = write(tmp_path / "ok.txt", "Café — naïve 東京")
    _, report = load([path])
    assert report.invalid_utf8 == {}


def test_malformed_jsonl_line_is_reported_with_file_and_line_and_the_rest_is_read(tmp_path):
    root = tmp_path / "c"
    bad = write(
        root / "a.jsonl",
        '{"_id": "a1", "text": "First."}\n'
        '{"_id": "a2", "text": \n'
        "\n"
        '{"_id": "a3", "text": "Fourth line."}\n',
    )
    write(root / "b.txt", "Other file")
    docs, report = load([root])
    assert [d.id for d in docs] == ["a1", "a3", "b.txt"]
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{bad.as_posix()}:2: malformed JSON")
    assert report.errors[0].endswith("line skipped")


@pytest.mark.parametrize("line", ['{"title": "No id", "text": "x"}', '["_id", "x"]', '"just a string"', "42"])
def test_jsonl_line_without_id_is_reported(tmp_path, line):
    path = write(tmp_path / "c.jsonl", '{"_id": "ok", "text": "Fine."}\n' + line + "\n")
    docs, report = load([path])
    assert [d.id for d in docs] == ["ok"]
    assert report.errors == [f'{path.as_posix()}:2: expected an object with "_id"; line skipped']


def test_jsonl_record_with_neither_title_nor_text_yields_no_document_and_is_counted(tmp_path):
    lines = ['{"_id": "a", "text": ""}', '{"_id": "b", "text": "B."}', '{"_id": "c"}', '{"_id": "d", "title": " "}']
    lines.append('{"_id": "e", "title": "Only a title"}')  # not empty: its title is its text
    path = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    docs, report = load([path])
    assert [d.id for d in docs] == ["b", "e"]
    shown = path.as_posix()
    assert report.empty_records == [f"{shown}:1", f"{shown}:3", f"{shown}:4"]
    assert report.warnings() == [f"skipped 3 empty record(s): {shown}:1, {shown}:3, {shown}:4"]
    assert report.errors == []


def test_empty_jsonl_records_parsed_in_build_workers_are_counted(tmp_path, monkeypatch):
    # A build parses JSONL lines where it analyzes them, with a report of its own that
    # the reader's takes in: the empty records must come along.
    from citesearch.indexer import builder

    monkeypatch.setattr(builder, "CHUNK", 7)
    lines = [json.dumps({"_id": f"d{i}", "text": "" if i % 10 == 3 else f"record {i} text"}) for i in range(40)]
    path = write(tmp_path / "c.jsonl", "\n".join(lines) + "\n")
    report = LoadReport()
    builder.build_index(load_documents([path], report=report), tmp_path / "index", workers=2)
    assert report.documents == 36
    assert report.empty_records == [f"{path.as_posix()}:{n}" for n in (4, 14, 24, 34)]


@pytest.mark.parametrize(
    "data",
    [b"this is not gzip data", gzip.compress(b"Some text that is long enough to truncate.")[:-12]],
    ids=["not-gzip", "truncated"],
)
def test_unreadable_file_is_an_error_and_other_files_are_still_read(tmp_path, data):
    root = tmp_path / "c"
    bad = write(root / "bad.txt.gz", data)
    write(root / "ok.txt", "Fine")
    docs, report = load([root])
    assert [d.id for d in docs] == ["ok.txt"]
    assert len(report.errors) == 1
    assert report.errors[0].startswith(f"{bad.as_posix()}: cannot read: ")
    assert report.files == 1  # only the readable one


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read a chmod 000 file")
def test_permission_denied_is_an_error(tmp_path):
    root = tmp_path / "c"
    bad = write(root / "locked.txt", "secret")
    write(root / "ok.txt", "Fine")
    bad.chmod(0)
    try:
        docs, report = load([root])
    finally:
        bad.chmod(0o644)
    assert [d.id for d in docs] == ["ok.txt"]
    assert report.errors == [f"{bad.as_posix()}: cannot read: Permission denied"]


def test_strict_mode_raises_on_malformed_jsonl_line(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"_id": "a", "text": "A."}\n\n{oops}\n')
    with pytest.raises(CorpusError) as info:
        load([path], report=LoadReport(strict=True))
    assert info.value.path == path.as_posix()
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path.as_posix()}:3: malformed JSON")


def test_strict_mode_raises_on_unreadable_file(tmp_path):
    path = write(tmp_path / "bad.md.gz", b"not gzip")
    with pytest.raises(CorpusError) as info:
        load([path], report=LoadReport(strict=True))
    assert info.value.path == path.as_posix()
    assert info.value.line is None
    assert info.value.reason.startswith("cannot read: ")


def test_strict_mode_does_not_raise_on_warnings(tmp_path):
    root = tmp_path / "c"
    write(root / "bin.txt", b"\x00\x01")
    write(root / "empty.txt", b"")
    write(root / "latin.txt", "caf\xe9".encode("latin-1"))
    docs, report = load([root], report=LoadReport(strict=True))
    assert [d.id for d in docs] == ["latin.txt"]
    assert len(report.binary) == len(report.empty) == len(report.invalid_utf8) == 1


def test_no_readable_documents_raises_no_input_error(tmp_path):
    root = tmp_path / "c"
    write(root / "bin.txt", b"\x00\x01")
    write(root / "empty.md", "")
    with pytest.raises(NoInputError) as info:
        load([root])
    message = str(info.value)
    assert message.startswith("no readable documents in the given paths")
    assert "skipped 1 binary file(s)" in message
    assert "skipped 1 empty file(s)" in message


def test_directory_without_supported_files_raises_no_input_error(tmp_path):
    write(tmp_path / "c" / "notes.pdf", "x")
    with pytest.raises(NoInputError, match="^no readable documents in the given paths$"):
        load([tmp_path / "c"])


def test_only_missing_paths_raises_no_input_error_naming_them(tmp_path):
    with pytest.raises(NoInputError, match="no such file or directory"):
        load([tmp_path / "missing"])


# --- duplicates --------------------------------------------------------------------------------


def test_duplicate_ids_across_directories_are_skipped_and_reported(tmp_path):
    first = write(tmp_path / "one" / "same.txt", "First")
    second = write(tmp_path / "two" / "same.txt", "Second")
    docs, report = load([first.parent, second.parent])
    assert [(d.id, d.text) for d in docs] == [("same.txt", "First")]
    assert report.duplicates == [f"same.txt ({second.as_posix()})"]
    assert report.documents == 1


def test_duplicate_jsonl_ids_are_skipped_and_reported(tmp_path):
    path = write(tmp_path / "c.jsonl", '{"_id": "x", "text": "One."}\n{"_id": "x", "text": "Two."}\n')
    docs, report = load([path])
    assert [(d.id, d.text) for d in docs] == [("x", "One.")]
    assert report.duplicates == [f"x ({path.as_posix()})"]


# --- read_file / read_documents ------------------------------------------------------------------


def test_read_documents_calls_on_file_once_per_file(tiny_corpus):
    files = discover([tiny_corpus])
    seen = []
    docs = list(read_documents(files, LoadReport(), on_file=seen.append))
    assert seen == files
    assert len(docs) == 5


def test_read_file_of_a_jsonl_collection(tiny_corpus):
    (f,) = [f for f in discover([tiny_corpus]) if f.doc_id == "collection.jsonl.gz"]
    assert f.suffix == ".jsonl"
    report = LoadReport()
    assert [d.id for d in read_file(f, report)] == ["d1", "d2"]
    assert report.files == 1


# --- LoadReport.warnings ---------------------------------------------------------------------------


def test_warnings_of_a_clean_report_are_empty():
    assert LoadReport().warnings() == []


def test_warnings_one_line_per_kind():
    report = LoadReport(
        binary=["a.bin.txt"],
        empty=["e1.txt", "e2.txt"],
        invalid_utf8={"x.txt": 2, "y.txt": 1},
        outside_links=["c/link"],
        duplicates=["d (c/d.txt)"],
        empty_records=["r.jsonl:4"],
    )
    assert report.warnings() == [
        "skipped 1 binary file(s): a.bin.txt",
        "skipped 2 empty file(s): e1.txt, e2.txt",
        "skipped 1 empty record(s): r.jsonl:4",
        "replaced 3 invalid UTF-8 byte sequence(s) in 2 file(s): x.txt, y.txt",
        "skipped 1 symbolic link(s) leading outside the directory: c/link",
        "skipped 1 document(s) whose id was already taken: d (c/d.txt)",
    ]


def test_warnings_show_three_names_and_how_many_more():
    report = LoadReport(empty=[f"e{i}.txt" for i in range(5)])
    assert report.warnings() == ["skipped 5 empty file(s): e0.txt, e1.txt, e2.txt and 2 more"]


def test_warnings_after_a_real_load(tmp_path):
    root = tmp_path / "c"
    write(root / "a.txt", "fine")
    write(root / "b.txt", b"\x00")
    write(root / "c.txt", b"")
    write(root / "d.txt", b"caf\xe9")
    docs, report = load([root])
    assert [d.id for d in docs] == ["a.txt", "d.txt"]
    assert report.warnings() == [
        f"skipped 1 binary file(s): {(root / 'b.txt').as_posix()}",
        f"skipped 1 empty file(s): {(root / 'c.txt').as_posix()}",
        f"replaced 1 invalid UTF-8 byte sequence(s) in 1 file(s): {(root / 'd.txt').as_posix()}",
    ]


# --- JSONL collections are read line by line --------------------------------------------------


def test_jsonl_bom_and_invalid_utf8_in_one_line(tmp_path):
    path = write(
        tmp_path / "c.jsonl",
        "\ufeff".encode() + b'{"_id": "a", "text": "Fine."}\n' + '{"_id": "b", "text": "Café"}\n'.encode("latin-1"),
    )
    docs, report = load([path])
    assert [(d.id, d.text) for d in docs] == [("a", "Fine."), ("b", "Caf\ufffd")]
    assert report.invalid_utf8 == {path.as_posix(): 1}
    assert report.errors == []


def test_jsonl_of_a_bom_and_unicode_spaces_only_is_empty_and_no_error(tmp_path):
    path = write(tmp_path / "c.jsonl", "\ufeff\n\u3000\n".encode())
    write(tmp_path / "ok.txt", "fine")
    docs, report = load([tmp_path])
    assert [d.id for d in docs] == ["ok.txt"]
    assert report.errors == []
    assert report.empty == [path.as_posix()]


def test_truncated_gz_collection_keeps_the_records_before_the_damage(tmp_path):
    lines = "".join(json.dumps({"_id": f"d{i}", "text": f"record {i} " * 20}) + "\n" for i in range(2000))
    path = write(tmp_path / "c.jsonl.gz", gzip.compress(lines.encode())[:-400])
    docs, report = load([path])
    assert 0 < len(docs) < 2000
    assert [d.id for d in docs] == [f"d{i}" for i in range(len(docs))]
    (error,) = report.errors
    assert error.startswith(f"{path.as_posix()}: cannot read past line ")
