"""Find input files and read them into :class:`Document` records.

Every problem with the input is recorded in a :class:`LoadReport` rather than raised,
so that one bad file never costs the others: unreadable files and malformed JSONL lines
are *errors* (named with file and line), binary files, empty files, empty JSONL records,
special files (FIFOs, devices, sockets: never opened) and invalid UTF-8 are *warnings*.
With ``strict=True`` the first error is raised as :class:`CorpusError`.

Hostile input costs bounded work: a document file (decompressed) or a JSONL line longer
than :data:`MAX_DOCUMENT_BYTES` is an error, read no further than that; the binary check
reads only the first 8 KiB. Paths in messages are made printable (:func:`printable`).
"""

from __future__ import annotations

import errno
import fnmatch
import gzip
import json
import math
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

import orjson

from ..errors import CorpusError, FormatError, NoInputError
from .documents import Document
from .formats import READERS, read_text

SUPPORTED = (*READERS, ".jsonl")
"""Extensions picked up when walking a directory (each may also end in ``.gz``)."""

MAX_DOCUMENT_BYTES = 64 << 20
"""The most bytes a document file may hold once decompressed, and a JSONL line: more is
an error, and no more than this is ever read (a gzip bomb stops here)."""
MAX_ID_CHARS = 1000
"""The longest ``_id`` a JSONL record may have."""
_SNIFF = 8192  # the bytes that decide whether a file is binary
_BATCH_BYTES = 64 << 20  # a batch of documents or lines ends at this many bytes, too
_BOM = b"\xef\xbb\xbf"


def printable(path: str) -> str:
    """``path`` as a message can show it on one line: bytes that are not UTF-8 (held as
    surrogates) as ``\\xNN``, control characters such as a newline as ``\\n``."""
    if path.isprintable():
        return path
    text = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


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
    special: list[str] = field(default_factory=list)  # FIFOs, devices, sockets: never opened
    duplicates: list[str] = field(default_factory=list)
    first_error: CorpusError | None = field(default=None, repr=False, compare=False)

    def error(self, path: str, message: str, line: int | None = None) -> None:
        err = CorpusError(printable(path), message, line)
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
        if self.special:
            out.append(
                f"skipped {len(self.special)} special file(s) (FIFOs, devices, sockets: not regular files): "
                f"{_some(self.special)}"
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
    shown = ", ".join(map(printable, items[:n]))
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

    What cannot be listed or read is reported, never raised, and costs nothing else:
    a directory that cannot be listed or searched, a link that loops or leads nowhere,
    a name that is not UTF-8 (errors); a FIFO, device or socket (a warning: it is never
    opened, so never blocks).
    """
    report = report if report is not None else LoadReport()
    found: list[InputFile] = []
    for arg in paths:
        p = Path(arg)
        shown = PurePosixPath(p.as_posix()).as_posix()
        try:
            st = os.stat(p)
        except OSError as exc:
            missing = exc.errno == errno.ENOENT and not os.path.islink(p)
            report.error(str(arg), "no such file or directory" if missing else f"cannot read: {_reason(exc)}")
            continue
        if not _utf8(shown):
            report.error(shown, _NOT_UTF8)
        elif stat.S_ISDIR(st.st_mode):
            found.extend(_walk(p, include, exclude, report))
        elif not stat.S_ISREG(st.st_mode):
            report.special.append(shown)
        else:
            found.append(InputFile(p, p.name if p.is_absolute() else shown, shown))
    return found


_NOT_UTF8 = "the name is not valid UTF-8 (rename it); skipped"


def _utf8(name: str) -> bool:
    """Whether a name from the file system decodes as UTF-8 (if not, it holds surrogates)."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _walk(root: Path, include: Sequence[str], exclude: Sequence[str], report: LoadReport) -> Iterator[InputFile]:
    real_root = Path(os.path.realpath(root))

    def unlistable(exc: OSError) -> None:
        report.error(Path(exc.filename).as_posix(), f"cannot list the directory: {_reason(exc)}; skipped")

    def outside(path: Path) -> bool:
        return not Path(os.path.realpath(path)).is_relative_to(real_root)

    # Directory links are not followed: one leading inside the root would list the same
    # files twice, one leading outside is reported.
    for here, dirnames, filenames in _tree(root, unlistable):
        try:
            for d in list(dirnames):
                if os.path.islink(here / d) or not _utf8(d):
                    dirnames.remove(d)
                    if not _utf8(d):
                        report.error((here / d).as_posix(), _NOT_UTF8)
                    elif outside(here / d):
                        report.outside_links.append((here / d).as_posix())
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            found = list(_listed(root, here, sorted(filenames), include, exclude, report, outside))
        except PermissionError as exc:
            # Listed but not searchable (read permission without execute): no file in it
            # can be opened, nor its directories entered.
            dirnames[:] = []
            report.error(here.as_posix(), f"cannot open the files in the directory: {_reason(exc)}; skipped")
            continue
        yield from found


def _tree(root: Path, onerror: Callable[[OSError], None]) -> Iterator[tuple[Path, list[str], list[str]]]:
    """``os.walk(root)``, top-down, without recursion: os.walk (before Python 3.12)
    recursed once per level, and a tree 1,000 folders deep ended in RecursionError. As
    with os.walk, the caller may prune or reorder the names of the folders to enter."""
    stack = [root]
    while stack:
        here = stack.pop()
        try:
            with os.scandir(here) as entries:
                listed = list(entries)
        except OSError as exc:
            onerror(exc)
            continue
        dirnames, filenames = [], []
        for entry in listed:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (dirnames if is_dir else filenames).append(entry.name)
        yield here, dirnames, filenames
        stack.extend(here / d for d in reversed(dirnames))


def _listed(
    root: Path,
    here: Path,
    filenames: list[str],
    include: Sequence[str],
    exclude: Sequence[str],
    report: LoadReport,
    outside: Callable[[Path], bool],
) -> Iterator[InputFile]:
    """The files to read among one directory's; raises PermissionError if it cannot be searched."""
    for name in filenames:
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
        if not _utf8(name):
            report.error(path.as_posix(), _NOT_UTF8)
            continue
        st = os.lstat(path)  # PermissionError: the directory cannot be searched
        if stat.S_ISLNK(st.st_mode):
            if outside(path):
                report.outside_links.append(path.as_posix())
                continue
            try:
                st = os.stat(path)
            except OSError as exc:  # a loop, or a link to nothing
                report.error(path.as_posix(), f"cannot read: {_reason(exc)}")
                continue
        if not stat.S_ISREG(st.st_mode):
            report.special.append(path.as_posix())
            continue
        yield InputFile(path, str(rel), path.as_posix())


@contextmanager
def _open(f: InputFile) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed if its name ends in ``.gz``. Opened without
    blocking and refused (OSError) unless it is a regular file: a FIFO put in the place
    of a file after :func:`discover` listed it is never read."""
    fd = os.open(f.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    # A large buffer: each refill lets go of the GIL, and taking it back from a busy
    # builder thread waits for the interpreter's switch interval.
    with open(fd, "rb", buffering=1 << 20) as raw:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if _gzipped(f):
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


def _gzipped(f: InputFile) -> bool:
    return f.path.name.lower().endswith(".gz")


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


def _too_large(f: InputFile, what: str = "file") -> str:
    unzipped = " once decompressed" if _gzipped(f) else ""
    return f"{what} larger than {MAX_DOCUMENT_BYTES:,} bytes{unzipped} (the most citesearch reads); skipped"


def read_file(f: InputFile, report: LoadReport) -> Iterator[Document]:
    """The documents in one file: one, or one per line of a JSONL collection."""
    if f.suffix == ".jsonl":
        yield from _read_jsonl(f, report)
        return
    try:
        with _open(f) as fh:
            head = fh.read(_SNIFF)
            report.files += 1
            if b"\x00" in head:
                report.binary.append(f.display)
                return
            data = _read_rest(fh, head, _gzipped(f))
    except _READ_ERRORS as exc:
        report.error(f.display, f"cannot read: {_reason(exc)}")
        return
    if len(data) > MAX_DOCUMENT_BYTES:
        report.error(f.display, _too_large(f))
        return
    text = _decode(data, f, report).removeprefix("\ufeff")
    try:
        title, body = READERS.get(f.suffix, read_text)(text, f.path.name)
    except FormatError as exc:
        report.error(f.display, f"{exc}; skipped")
        return
    if not body.strip():
        report.empty.append(f.display)
        return
    yield Document(id=f.doc_id, path=f.display, title=title, text=body)


def _read_rest(fh: BinaryIO, head: bytes, gzipped: bool) -> bytes:
    """``head`` and the rest of the file, no more than :data:`MAX_DOCUMENT_BYTES` + 1
    bytes of it: a plain file by its size (one read), a gzipped one a piece at a time."""
    if not gzipped:
        if os.fstat(fh.fileno()).st_size > MAX_DOCUMENT_BYTES:
            return head + fh.read(MAX_DOCUMENT_BYTES + 1 - len(head))
        return head + fh.read()
    pieces = [head]
    held = len(head)
    while held <= MAX_DOCUMENT_BYTES and (piece := fh.read(min(1 << 18, MAX_DOCUMENT_BYTES + 1 - held))):
        pieces.append(piece)
        held += len(piece)
    return b"".join(pieces)


def _blank(line: bytes) -> bool:
    return not line or line.isspace() or (not line.isascii() and line.decode("utf-8", "replace").isspace())


def _binary_jsonl(head: bytes) -> bool:
    """Whether the start of a .jsonl file is binary: NUL bytes, and not a JSON object
    first. A collection is read line by line, a NUL byte spoiling only its line."""
    return b"\x00" in head and not head.removeprefix(_BOM).lstrip().startswith(b"{")


def _lines(f: InputFile, report: LoadReport) -> Iterator[tuple[int, bytes]]:
    """(number, bytes) of each line of a file that is not blank, read as it goes: a
    collection may be larger than memory. Only "\n" ends a line: JSON strings may hold
    U+2028 and other line separators. A line longer than :data:`MAX_DOCUMENT_BYTES` is
    an error, skipped without being held."""
    lineno = 0
    content = False
    try:
        with _open(f) as fh:
            binary = _binary_jsonl(fh.read(_SNIFF))
            report.files += 1
            if binary:
                report.binary.append(f.display)
                return
            fh.seek(0)
            while line := fh.readline(MAX_DOCUMENT_BYTES + 1):
                lineno += 1
                if lineno == 1:
                    line = line.removeprefix(_BOM)
                if len(line) > MAX_DOCUMENT_BYTES and not line.endswith(b"\n"):
                    while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    content = True
                    report.error(f.display, _too_large(f, "line"), lineno)
                    continue
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
    is a document whose title is its text. A record whose ``_id`` is not a non-empty
    string or a finite number (converted, as BEIR's tools do) is an error."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        # Invalid UTF-8 (replaced, and counted), what orjson refuses and json reads
        # (NaN, lone surrogates), or json's clearer message for what neither reads.
        try:
            record = _no_surrogates(json.loads(_decode(line, f, report)))
        except json.JSONDecodeError as exc:
            report.error(f.display, f"malformed JSON ({exc.msg}); line skipped", lineno)
            return None
        except (ValueError, RecursionError) as exc:  # a number of 4,300+ digits; deep nesting
            what = "nested too deeply" if isinstance(exc, RecursionError) else "a number too long"
            report.error(f.display, f"malformed JSON ({what}); line skipped", lineno)
            return None
    if not isinstance(record, dict) or "_id" not in record:
        report.error(f.display, 'expected an object with "_id"; line skipped', lineno)
        return None
    doc_id, problem = _doc_id(record["_id"])
    if problem:
        report.error(f.display, f"{problem}; line skipped", lineno)
        return None
    title = str(record.get("title") or "").strip()
    body = str(record.get("text") or "")
    metadata = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    full = f"{title}\n\n{body}" if title and body and not body.isspace() else (title or body)
    if not full or full.isspace():
        report.empty_records.append(f"{f.display}:{lineno}")
        return None
    return doc_id, title or full.strip().splitlines()[0], full, metadata, bool(title)


def _doc_id(value: object) -> tuple[str, str | None]:
    """A record's ``_id`` as a document id, or why it cannot be one."""
    if isinstance(value, str):
        if not value.strip():
            return "", f'"_id" is {"empty" if not value else "only white space"}'
        if len(value) > MAX_ID_CHARS:
            return "", f'"_id" is longer than {MAX_ID_CHARS:,} characters'
        return value, None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    if isinstance(value, float) and math.isfinite(value):
        return str(value), None
    kind = {type(None): "null", bool: "true/false", dict: "an object", list: "an array"}.get(type(value), str(value))
    return "", f'"_id" must be a string or a number, not {kind}'


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: object) -> object:
    """``value`` (parsed JSON) with lone surrogates, which json reads from escapes such
    as ``\\ud800`` and which UTF-8 cannot hold, replaced by U+FFFD: every string, keys
    too, however deep (without recursion)."""

    def fix(v: object) -> object:
        if isinstance(v, str):
            return _SURROGATE.sub("\ufffd", v)
        if isinstance(v, (dict, list)):
            stack.append(v)
        return v

    stack: list[dict | list] = []
    value = fix(value)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            items = list(node.items())
            node.clear()
            node.update((fix(k), fix(v)) for k, v in items)
        else:
            node[:] = [fix(v) for v in node]
    return value


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
        """The input in order, in batches of at most ``size`` documents or lines (fewer
        when they add up to ``_BATCH_BYTES``: a batch of large documents stays bounded)."""
        report = self.report
        docs: list[Document] = []
        held = 0
        for f in self.files:
            if f.suffix == ".jsonl":
                if docs:
                    yield docs
                    docs, held = [], 0
                numbers: list[int] = []
                lines: list[bytes] = []
                for lineno, line in _lines(f, report):
                    numbers.append(lineno)
                    lines.append(line)
                    held += len(line)
                    if len(lines) == size or held >= _BATCH_BYTES:
                        yield JsonlLines(f, numbers, lines)
                        numbers, lines, held = [], [], 0
                if lines:
                    yield JsonlLines(f, numbers, lines)
                    held = 0
            else:
                for doc in read_file(f, report):
                    if self.ids.admit(doc.id, f.display):
                        docs.append(doc)
                        held += len(doc.text)
                        if len(docs) == size or held >= _BATCH_BYTES:
                            yield docs
                            docs, held = [], 0
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
