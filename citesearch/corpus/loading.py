"""Find input files and read them into :class:`Document` records.

Every problem with the input is recorded in a :class:`LoadReport` rather than raised,
so that one bad file never costs the others: unreadable files and malformed JSONL lines
are *errors* (named with file and line), binary files, empty files, empty JSONL records
and invalid UTF-8 are *warnings*. With ``strict=True`` the first error is raised as :class:`CorpusError`.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import orjson

from ..errors import CorpusError, NoInputError
from .documents import Document
from .formats import READERS, read_text

SUPPORTED = (*READERS, ".jsonl")
"""Extensions picked up when walking a directory (each may also end in ``.gz``)."""


@dataclass
class LoadReport:
    """What reading the input ran into."""

    strict: bool = False
    files: int = 0
    documents: int = 0
    errors: list[str] = field(default_factory=list)
    binary: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    empty_records: list[str] = field(default_factory=list)  # "FILE:LINE" of JSONL records with no text
    invalid_utf8: dict[str, int] = field(default_factory=dict)
    outside_links: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    first_error: CorpusError | None = field(default=None, repr=False, compare=False)

    def error(self, path: str, message: str, line: int | None = None) -> None:
        err = CorpusError(path, message, line)
        if self.strict:
            raise err
        self.errors.append(str(err))
        if self.first_error is None:
            self.first_error = err

    def warnings(self) -> list[str]:
        """One line per kind of warning, for the end of a run."""
        out = []
        if self.binary:
            out.append(f"skipped {len(self.binary)} binary file(s): {_some(self.binary)}")
        if self.empty:
            out.append(f"skipped {len(self.empty)} empty file(s): {_some(self.empty)}")
        if self.empty_records:
            out.append(f"skipped {len(self.empty_records)} empty record(s): {_some(self.empty_records)}")
        if self.invalid_utf8:
            n = sum(self.invalid_utf8.values())
            out.append(
                f"replaced {n} invalid UTF-8 byte sequence(s) in "
                f"{len(self.invalid_utf8)} file(s): {_some(list(self.invalid_utf8))}"
            )
        if self.outside_links:
            out.append(
                f"skipped {len(self.outside_links)} symbolic link(s) leading outside "
                f"the directory: {_some(self.outside_links)}"
            )
        if self.duplicates:
            out.append(
                f"skipped {len(self.duplicates)} document(s) whose id was already taken: "
                f"{_some(self.duplicates)}"
            )
        return out


def _some(items: list[str], n: int = 3) -> str:
    shown = ", ".join(items[:n])
    return shown + (f" and {len(items) - n} more" if len(items) > n else "")


@dataclass(frozen=True)
class InputFile:
    """A file to read: its location, the id its document gets, and its format."""

    path: Path
    doc_id: str
    display: str

    @property
    def suffix(self) -> str:
        name = self.path.name.lower()
        if name.endswith(".gz"):
            name = name[:-3]
        return os.path.splitext(name)[1]


def _hidden(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _wanted(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]

    def hit(pattern: str) -> bool:
        return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(name, pattern)

    if include and not any(hit(p) for p in include):
        return False
    return not any(hit(p) for p in exclude)


def discover(
    paths: Iterable[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    report: LoadReport | None = None,
) -> list[InputFile]:
    """List the files to read under ``paths``, in a stable order.

    A directory is walked recursively; only files with a supported extension are taken,
    filtered by ``include``/``exclude`` globs (matched against the path relative to the
    directory, and against the file name). Hidden files and directories are skipped, and
    so are symbolic links whose target lies outside the directory. A file named
    directly is always taken, whatever its extension (read as plain text if unknown).
    """
    report = report if report is not None else LoadReport()
    found: list[InputFile] = []
    for arg in paths:
        p = Path(arg)
        if p.is_dir():
            found.extend(_walk(p, include, exclude, report))
        elif p.exists():
            shown = PurePosixPath(p.as_posix()).as_posix()
            found.append(InputFile(p, p.name if p.is_absolute() else shown, shown))
        else:
            report.error(str(arg), "no such file or directory")
    return found


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str], report: LoadReport) -> Iterator[InputFile]:
    real_root = root.resolve()
    # Directory links are not followed: one leading inside the root would list the same
    # files twice, one leading outside is reported.
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                if not (here / d).resolve().is_relative_to(real_root):
                    report.outside_links.append((here / d).as_posix())
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = here / name
            rel = PurePosixPath(path.relative_to(root).as_posix())
            if _hidden(rel):
                continue
            lower = name.lower()
            if lower.endswith(".gz"):
                lower = lower[:-3]
            if not lower.endswith(SUPPORTED) or not _wanted(str(rel), include, exclude):
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(real_root):
                report.outside_links.append(path.as_posix())
                continue
            yield InputFile(path, str(rel), path.as_posix())


def _open(f: InputFile) -> BinaryIO:
    # A large buffer: each refill lets go of the GIL, and taking it back from a busy
    # builder thread waits for the interpreter's switch interval.
    return gzip.open(f.path, "rb") if f.path.name.lower().endswith(".gz") else open(f.path, "rb", buffering=1 << 20)


_READ_ERRORS = (OSError, EOFError, zlib.error, gzip.BadGzipFile)


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _decode(data: bytes, f: InputFile, report: LoadReport) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
        report.invalid_utf8[f.display] = report.invalid_utf8.get(f.display, 0) + text.count("\ufffd")
    return text


def read_file(f: InputFile, report: LoadReport) -> Iterator[Document]:
    """The documents in one file: one, or one per line of a JSONL collection."""
    if f.suffix == ".jsonl":
        yield from _read_jsonl(f, report)
        return
    try:
        with _open(f) as fh:
            data = fh.read()
    except _READ_ERRORS as exc:
        report.error(f.display, f"cannot read: {_reason(exc)}")
        return
    report.files += 1
    if b"\x00" in data[:8192]:
        report.binary.append(f.display)
        return
    text = _decode(data, f, report).removeprefix("\ufeff")
    title, body = READERS.get(f.suffix, read_text)(text, f.path.name)
    if not body.strip():
        report.empty.append(f.display)
        return
    yield Document(id=f.doc_id, path=f.display, title=title, text=body)


def _blank(line: bytes) -> bool:
    return not line or line.isspace() or (not line.isascii() and line.decode("utf-8", "replace").isspace())


def _lines(f: InputFile, report: LoadReport) -> Iterator[tuple[int, bytes]]:
    """(number, bytes) of each line of a file that is not blank, read as it goes: a
    collection may be larger than memory. Only "\n" ends a line: JSON strings may hold
    U+2028 and other line separators."""
    lineno = 0
    content = False
    try:
        with _open(f) as fh:
            binary = b"\x00" in fh.read(8192)
            report.files += 1
            if binary:
                report.binary.append(f.display)
                return
            fh.seek(0)
            for lineno, line in enumerate(fh, 1):
                if lineno == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if not _blank(line):
                    content = True
                    yield lineno, line
    except _READ_ERRORS as exc:
        where = f"cannot read past line {lineno}" if lineno else "cannot read"
        report.error(f.display, f"{where}: {_reason(exc)}")
        return
    if not content:
        report.empty.append(f.display)


Record = tuple[str, str, str, dict, bool]
"""A document's ``(id, title, text, metadata, title_declared)``."""


def _record(line: bytes, lineno: int, f: InputFile, report: LoadReport) -> Record | None:
    """The document on one (non-blank) line of a JSONL collection, or None. A record with
    neither text nor title is counted in ``report.empty_records``; one with only a title
    is a document whose title is its text."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        # Invalid UTF-8 (replaced, and counted), what orjson refuses and json reads
        # (NaN, lone surrogates), or json's clearer message for what neither reads.
        try:
            record = json.loads(_decode(line, f, report))
        except json.JSONDecodeError as exc:
            report.error(f.display, f"malformed JSON ({exc.msg}); line skipped", lineno)
            return None
    if not isinstance(record, dict) or "_id" not in record:
        report.error(f.display, 'expected an object with "_id"; line skipped', lineno)
        return None
    title = str(record.get("title") or "").strip()
    body = str(record.get("text") or "")
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    full = f"{title}\n\n{body}" if title and body and not body.isspace() else (title or body)
    if not full or full.isspace():
        report.empty_records.append(f"{f.display}:{lineno}")
        return None
    return str(record["_id"]), title or full.strip().splitlines()[0], full, metadata, bool(title)


def _read_jsonl(f: InputFile, report: LoadReport) -> Iterator[Document]:
    for lineno, line in _lines(f, report):
        record = _record(line, lineno, f, report)
        if record is not None:
            doc_id, title, text, metadata, declared = record
            yield Document(doc_id, f.display, title, text, metadata, declared)


@dataclass(frozen=True)
class JsonlLines:
    """Consecutive lines of a JSONL collection, not parsed yet: a batch that a build
    parses where it analyzes it (in a worker process), rather than in the process that
    reads the files. ``records`` and ``documents`` parse them."""

    file: InputFile
    numbers: list[int]
    lines: list[bytes]

    def records(self, report: LoadReport) -> list[Record]:
        """The documents on these lines, as :data:`Record` tuples (cheaper to
        make than :class:`Document` records); problems go to ``report``."""
        records = (_record(line, n, self.file, report) for n, line in zip(self.numbers, self.lines))
        return [r for r in records if r is not None]

    def documents(self, report: LoadReport) -> list[Document]:
        """The documents on these lines; problems go to ``report``."""
        return [Document(i, self.file.display, title, text, meta, declared)
                for i, title, text, meta, declared in self.records(report)]

    @property
    def size(self) -> int:
        """Bytes of the lines."""
        return sum(map(len, self.lines))


Batch = list[Document] | JsonlLines


class FirstIdWins:
    """Duplicate document ids, dealt with here and only here: the first document with an
    id is admitted; each later one is a warning (``LoadReport.duplicates``) and is left
    out, whoever parsed it. Ask :meth:`admit` for every document, in input order.

    A :class:`DocumentReader` asks for the documents it parses; a build, for the JSONL
    documents its workers parse (``indexer.builder._admitted``), which then also leaves
    out the passages of those it was refused and the terms only they had.
    """

    def __init__(self, report: LoadReport):
        self.report = report
        self.seen: set[str] = set()

    def admit(self, doc_id: str, display: str) -> bool:
        """Count a document in, unless its id was taken (then it is reported, left out)."""
        if doc_id in self.seen:
            self.report.duplicates.append(f"{doc_id} ({display})")
            return False
        self.seen.add(doc_id)
        self.report.documents += 1
        return True


class DocumentReader:
    """The documents of ``files``, each id once (see :class:`FirstIdWins`), read in
    batches: :meth:`batches` reads the files; JSONL lines come unparsed, for whoever
    analyzes the batch to parse (:meth:`JsonlLines.records`, with a report of its own),
    then to :meth:`merge` that report and ask :attr:`ids` to admit each document.
    Iterating it yields the documents, parsed here."""

    def __init__(
        self, files: Iterable[InputFile], report: LoadReport, on_file: Callable[[InputFile], None] | None = None
    ):
        self.files = files
        self.report = report
        self.on_file = on_file
        self.ids = FirstIdWins(report)

    def batches(self, size: int) -> Iterator[Batch]:
        """The input in order, in batches of at most ``size`` documents or lines."""
        report = self.report
        docs: list[Document] = []
        for f in self.files:
            if f.suffix == ".jsonl":
                if docs:
                    yield docs
                    docs = []
                numbers: list[int] = []
                lines: list[bytes] = []
                for lineno, line in _lines(f, report):
                    numbers.append(lineno)
                    lines.append(line)
                    if len(lines) == size:
                        yield JsonlLines(f, numbers, lines)
                        numbers, lines = [], []
                if lines:
                    yield JsonlLines(f, numbers, lines)
            else:
                for doc in read_file(f, report):
                    if self.ids.admit(doc.id, f.display):
                        docs.append(doc)
                        if len(docs) == size:
                            yield docs
                            docs = []
            if self.on_file:
                self.on_file(f)
        if docs:
            yield docs

    def merge(self, report: LoadReport) -> None:
        """Take in what parsing a batch ran into (raising its first error if strict)."""
        if report.first_error is not None:
            if self.report.strict:
                raise report.first_error
            self.report.first_error = self.report.first_error or report.first_error
        self.report.errors.extend(report.errors)
        self.report.empty_records.extend(report.empty_records)
        for display, n in report.invalid_utf8.items():
            self.report.invalid_utf8[display] = self.report.invalid_utf8.get(display, 0) + n

    def finish(self) -> None:
        """Raise :class:`NoInputError` if not one document was admitted."""
        report = self.report
        if not report.documents:
            detail = "; ".join(report.errors[:3] + report.warnings()[:3])
            raise NoInputError("no readable documents in the given paths" + (f" ({detail})" if detail else ""))

    def __iter__(self) -> Iterator[Document]:
        for batch in self.batches(1000):
            if isinstance(batch, JsonlLines):
                for doc in batch.documents(self.report):
                    if self.ids.admit(doc.id, doc.path):
                        yield doc
            else:
                yield from batch
        self.finish()


def read_documents(
    files: Iterable[InputFile],
    report: LoadReport,
    on_file: Callable[[InputFile], None] | None = None,
) -> DocumentReader:
    """The documents of ``files``, each id once (later duplicates are skipped): iterate
    it, or hand it to ``build_index`` whole, which then parses JSONL in its workers.

    Raises :class:`NoInputError` at the end if not one document could be read.
    """
    return DocumentReader(files, report, on_file)


def load_documents(
    paths: Iterable[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    report: LoadReport | None = None,
) -> DocumentReader:
    """Every document under ``paths``; problems go to ``report``."""
    report = report if report is not None else LoadReport()
    return read_documents(discover(paths, include, exclude, report), report)
