"""Writes ``parity.jsonl`` (300 short documents) and ``parity_queries.jsonl`` (48 queries)
beside this file: the collection the parity tests run on when ../shared is absent.

Deterministic (a seeded ``random.Random``, no downloads): ``python tests/data/make_parity.py``
rewrites the same bytes. The text is nonsense, but built to reach the edge cases of BM25:

* ``stone`` is in exactly half of the documents (Okapi's idf is exactly 0 there), ``water``
  in about two thirds and ``study`` in every one (negative Okapi idf, floored to
  ``epsilon`` x mean idf; BM25L's and BM25+'s smallest idf);
* words repeat inside a document (tf up to 6) and lengths run from 3 to about 150 words;
* inflected forms share a stem (volcano / volcanoes, erupts / erupted / eruption), stop
  words and one-letter tokens are dropped, accents fold (café, Eyjafjallajökull);
* queries repeat words, hold stop words, words the corpus lacks and unseen forms of its stems.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
N_DOCS = 300

TOPICS = {
    "volcano": "volcano volcanoes volcanic lava magma erupts erupted eruption ash crater basalt ridge iceland".split(),
    "glacier": "glacier glaciers ice melting melts moraine fjord snowfall retreat climate warming cold".split(),
    "coffee": "coffee café espresso roast roasted roasting beans brew brewing caffeine crema grinder".split(),
    "ocean": "ocean oceans tide tides wave waves tsunami current currents salinity reef coral".split(),
    "library": "library libraries catalogue catalogues index indexing classification dewey books reader".split(),
    "forest": "forest forests tree trees canopy fungi fungus moss timber logging wildfire seedlings".split(),
}
SHARED_WORDS = "time measure measured measurement sample samples result results method methods year 2010".split()
STOP = "the of and a in to is was it for on with as by at from that this these there".split()
RARE = "eyjafjallajökull naïve résumé mid-atlantic don't x-ray e-mail 3d pi".split()


def _document(rng: random.Random, i: int, stone: bool) -> dict:
    topics = rng.sample(sorted(TOPICS), rng.choice([1, 1, 1, 2]))
    if rng.random() < 0.05:
        length = rng.randint(80, 150)
    else:
        length = rng.randint(3, 30)
    words = []
    for _ in range(length):
        r = rng.random()
        if r < 0.55:
            words.append(rng.choice(TOPICS[rng.choice(topics)]))
        elif r < 0.70:
            words.append(rng.choice(STOP))
        elif r < 0.92:
            words.append(rng.choice(SHARED_WORDS))
        else:
            words.append(rng.choice(RARE) if rng.random() < 0.3 else rng.choice(TOPICS[topics[0]]))
    if rng.random() < 0.3:  # one word many times: tf up to 6
        words += [rng.choice(TOPICS[topics[0]])] * rng.randint(2, 5)
    words.insert(rng.randrange(len(words) + 1), "study" if rng.random() < 0.8 else "studies")
    if stone:
        words.insert(rng.randrange(len(words) + 1), rng.choice(["stone", "stones", "Stone"]))
    if rng.random() < 0.66:
        words.insert(rng.randrange(len(words) + 1), rng.choice(["water", "waters", "Water"]))
    rng.shuffle(words)
    text = " ".join(words)
    text = text[0].upper() + text[1:] + "."
    record: dict = {"_id": f"p{i:03d}"}
    if rng.random() < 0.4:
        record["title"] = " ".join(rng.sample(TOPICS[topics[0]], 2)).capitalize()
    record["text"] = text
    return record


def documents() -> list[dict]:
    rng = random.Random(20_240_601)
    with_stone = set(rng.sample(range(N_DOCS), N_DOCS // 2))
    return [_document(rng, i, i in with_stone) for i in range(N_DOCS)]


HAND_QUERIES = [
    "volcano volcano lava",  # a repeated word
    "the eruption of the volcanoes",  # stop words, inflections
    "stone",  # idf exactly 0 under Okapi
    "water study",  # negative Okapi idf, floored
    "water water water stone study",
    "café espresso crema",  # accents folded
    "Eyjafjallajökull ash",
    "naive resume",  # the unaccented forms
    "zeppelin lava",  # one word the corpus lacks
    "erupting glaciated roasters",  # unseen forms of stems the corpus has
    "mid-atlantic ridge",
    "2010 measurements",
]


def queries(docs: list[dict]) -> list[dict]:
    rng = random.Random(7)
    vocabulary = sorted({w for words in TOPICS.values() for w in words} | set(SHARED_WORDS))
    out = [{"_id": f"h{i}", "text": q} for i, q in enumerate(HAND_QUERIES, 1)]
    for i in range(36):
        words = rng.sample(vocabulary, rng.randint(1, 5))
        if rng.random() < 0.3:
            words.append(rng.choice(words))
        if rng.random() < 0.3:
            words.insert(0, rng.choice(STOP))
        out.append({"_id": f"g{i + 1}", "text": " ".join(words)})
    return out


def main() -> None:
    docs = documents()
    with open(HERE / "parity.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    with open(HERE / "parity_queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries(docs))


if __name__ == "__main__":
    main()
