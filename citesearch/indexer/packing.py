"""Stored texts, packed: each source's text compressed on its own with zstd, using a
dictionary trained on the collection's first texts.

Compressed one by one, a text is read back in one row lookup and one decompression of
its own bytes (about a microsecond for a 200-word passage), so a citation still reads
its source in one access; the dictionary gives short texts what blocks of many texts
would (a million 220-byte texts: 1.89x smaller with a 64 KiB dictionary, 1.67x in 1 KiB
blocks without one, 2.4x in 64 KiB blocks that cost 50-70 us to open). A text that
would not shrink is stored as it is: the store tells the two apart by type (BLOB or
TEXT), so a store written before packing reads the same way.

zstandard (python-zstandard) does the compression: zlib's preset dictionaries compress
as well here but take 46 us a text to set up, 25 times zstd's whole cost.
"""

from __future__ import annotations

DICTIONARY_BYTES = 64 * 1024
SAMPLE_BYTES = 4 << 20  # the texts held back to train the dictionary on
LEVEL = 3  # 9 and 19 gain under 1% and 8% at 4x and 12x the time


class Packer:
    """Packs texts, holding back the first ``SAMPLE_BYTES`` of them until the dictionary
    is trained (``dictionary``: a store's existing one, used as it is)."""

    def __init__(self, dictionary: bytes | None):
        self.dictionary = dictionary
        self.trained = False  # whether a dictionary was made here (to be stored)
        self._compressor = None if dictionary is None else _compressor(dictionary)
        self._waiting: list[tuple] = []
        self._waiting_bytes = 0

    def add(self, rows: list[tuple], text: int) -> tuple[list[tuple], list]:
        """(rows ready, their ``text``-th values packed): ``rows`` and any held back
        before, or none yet. A packed value is a buffer (what SQLite stores as a BLOB),
        or the text itself where packing would not shrink it."""
        if self._compressor is None:
            self._waiting += rows
            self._waiting_bytes += sum(len(r[text]) for r in rows)
            if self._waiting_bytes < SAMPLE_BYTES:
                return [], []
            return self.flush(text)
        if not rows:
            return [], []
        # One call a batch: zstd lets go of the GIL once for all of them, not once a text
        # (which would make the builder's threads wait on each other's switch interval).
        raws = [r[text].encode() for r in rows]
        packed = self._compressor.multi_compress_to_buffer(raws)  # type: ignore[union-attr]
        return rows, [p if len(p) < len(raw) else r[text] for r, raw, p in zip(rows, raws, packed)]

    def flush(self, text: int) -> tuple[list[tuple], list]:
        """The rows held back and their texts packed (a dictionary is trained from them
        if none yet)."""
        if self._compressor is None:
            self.dictionary = _train([r[text].encode() for r in self._waiting])
            self.trained = self.dictionary is not None
            self._compressor = _compressor(self.dictionary)
        rows, self._waiting, self._waiting_bytes = self._waiting, [], 0
        return self.add(rows, text)


class Unpacker:
    """Reads texts back (``dictionary``: the store's, if it has one). zstandard is
    imported at the first packed text, not before."""

    def __init__(self, dictionary: bytes | None):
        self.dictionary = dictionary
        self._decompressor = None
        # Texts by source row: a query reads a row's text for its title and its passage,
        # and a page's passages from one long source read it once.
        self._recent: dict[int, str] = {}

    def __call__(self, row: int, value: str | bytes | None) -> str | None:
        if not isinstance(value, bytes):
            return value
        if row in self._recent:
            return self._recent[row]
        if self._decompressor is None:
            import zstandard

            data = None if self.dictionary is None else zstandard.ZstdCompressionDict(self.dictionary)
            self._decompressor = zstandard.ZstdDecompressor(dict_data=data)
        text = self._decompressor.decompress(value).decode()
        if len(self._recent) >= 64:
            self._recent.clear()
        self._recent[row] = text
        return text


def _train(samples: list[bytes]) -> bytes | None:
    """A dictionary for texts like ``samples``, or None when they are too few to train
    one (zstd refuses) or too short to need one."""
    import zstandard

    if sum(map(len, samples)) < 8 * DICTIONARY_BYTES:
        return None
    try:
        return zstandard.train_dictionary(DICTIONARY_BYTES, samples).as_bytes()
    except zstandard.ZstdError:
        return None


def _compressor(dictionary: bytes | None):
    import zstandard

    data = None
    if dictionary is not None:
        data = zstandard.ZstdCompressionDict(dictionary)
        data.precompute_compress(level=LEVEL)  # digested once, not once a text
    # No checksum (the manifest checksums the store) and no dictionary id (one per store).
    return zstandard.ZstdCompressor(level=LEVEL, dict_data=data, write_checksum=False, write_dict_id=False)
