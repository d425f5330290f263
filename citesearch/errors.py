"""One exception hierarchy for the whole package.

The CLI turns every :class:`CitesearchError` into a one-line message and a non-zero
exit status; library users can catch the base class.
"""

from __future__ import annotations


class CitesearchError(Exception):
    """Base class of every error citesearch raises on purpose."""

    hint: str | None = None

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint


class CorpusError(CitesearchError):
    """An input file (or one line of it) could not be read."""

    def __init__(self, path: str, message: str, line: int | None = None):
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.reason = message

    def __reduce__(self):
        # Rebuilt from its own arguments when it crosses a process boundary.
        return (type(self), (self.path, self.reason, self.line))


class NoInputError(CitesearchError):
    """Nothing readable was found in the given paths."""


class IndexNotFound(CitesearchError):
    """The index directory does not exist or holds no citesearch index."""

    hint = "Build one first: citesearch index PATH... --index DIR"


class IndexVersionError(CitesearchError):
    """The index was written in a format this version cannot read."""

    hint = "Rebuild it with this version: citesearch index PATH... --index DIR"


class IndexCorrupt(CitesearchError):
    """An index file is missing or does not match the manifest."""

    hint = "Rebuild the index."


class IndexClosed(CitesearchError):
    """An index was used after it was closed."""


class QuerySyntaxError(CitesearchError):
    """The query could not be parsed, or has nothing to search for."""


class FormatError(CitesearchError):
    """A file's text could not be read in its format (whoever read it names the file)."""
