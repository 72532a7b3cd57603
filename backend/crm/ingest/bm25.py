"""BM25 sparse vectors, computed here, offline; Qdrant supplies the IDF.

A text becomes terms: Unicode words, lower-cased, English stop words dropped, Snowball-stemmed
(`snowballstemmer`, English). A term's id is its MurmurHash3 (32-bit, unsigned, seed 0), so the
same word has the same id in every process and no vocabulary is stored. A document's weight for
a term is BM25's saturated term frequency

    tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))        k1 = 1.2, b = 0.75

with dl its number of terms and avgdl the corpus's real average (the index records the one its
vectors were written with). The collection's sparse vector has `modifier=IDF`, so Qdrant
multiplies in each term's inverse document frequency at query time; a query is its distinct
terms with weight 1. Two words whose hashes collide share an id (their weights add up): with
2^32 ids that is rare enough to ignore.
"""
import re
import threading
from collections import Counter
from functools import lru_cache

import mmh3
import snowballstemmer

K1 = 1.2
B = 0.75
WORD = re.compile(r"\w+", re.UNICODE)

# Lucene's English stop words plus the other short function words that carry no topic.
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have
having he her here hers herself him himself his how i if in into is it its itself just me more most
my myself no nor not now of off on once only or other our ours ourselves out over own same she
should so some such than that the their theirs them themselves then there these they this those
through to too under until up very was we were what when where which while who whom why will with
would you your yours yourself yourselves
""".split())

_local = threading.local()  # a Snowball stemmer keeps state between calls: one per thread


def _stemmer():
    if not hasattr(_local, "stemmer"):
        _local.stemmer = snowballstemmer.stemmer("english")
    return _local.stemmer


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball's stem of one word. Cached: the pure-Python stemmer takes ~0.1 ms a word, and a
    corpus repeats a small vocabulary (every run measures every chunk's length)."""
    return _stemmer().stemWord(word)


def terms(text: str) -> list:
    """The stemmed terms of `text`, in order (stop words and empty text give [])."""
    return [stem(w) for w in WORD.findall((text or "").lower()) if w not in STOP_WORDS]


def token_id(term: str) -> int:
    return mmh3.hash(term, signed=False)


def length(text: str) -> int:
    """A document's length in terms (what avgdl averages)."""
    return len(terms(text))


def average_length(texts) -> float:
    """The real average length in terms of `texts` (1.0 for an empty corpus, so weights stay finite)."""
    lengths = [length(t) for t in texts]
    return (sum(lengths) / len(lengths)) if lengths and sum(lengths) else 1.0


def document_vector(text: str, avgdl: float) -> tuple:
    """(indices, values) of a document's sparse vector, indices ascending."""
    found = terms(text)
    counts = Counter()
    for term in found:
        counts[token_id(term)] += 1
    norm = K1 * (1 - B + B * len(found) / avgdl)
    weights = {tid: tf * (K1 + 1) / (tf + norm) for tid, tf in counts.items()}
    indices = sorted(weights)
    return indices, [weights[i] for i in indices]


def query_vector(text: str) -> tuple:
    """(indices, values) of a query: each distinct term once, weight 1."""
    indices = sorted({token_id(term) for term in terms(text)})
    return indices, [1.0] * len(indices)
