"""Search over the index: dense, sparse (BM25) or hybrid, with entity, type and date filters.

    answer = search(index, embedder, "fund II close", mode="hybrid", entity=None, types=None,
                    since_ts=None, limit=10, include_email=True)

Hybrid is Qdrant's own fusion: a dense and a sparse prefetch, fused by reciprocal rank
(`RrfQuery`, k = RRF_K = 60: score = sum over both lists of 1 / (60 + rank)). Dense and hybrid need
the query's embedding; without an embedder, when it fails, or before the index holds any dense
vector, they answer in sparse mode and say so (`mode_used`, `degraded`, `degraded_detail`).
"""
import re
from datetime import datetime, timezone

from . import bm25
from .embed import EmbedError

MODES = ("dense", "sparse", "hybrid")
RRF_K = 60
MAX_LIMIT = 100
SNIPPET_CHARS = 240
NO_EMBEDDINGS = "no embedding server"


def search(index, embedder, q: str, mode: str = "hybrid", entity=None, types=None, since_ts=None, limit: int = 10,
           include_email: bool = True) -> dict:
    """{query, mode, mode_used, degraded, degraded_detail, hits}; each hit: score, type, title, snippet,
    date, source_table, source_id, chunk_index, entity_ids, names, link, api."""
    assert mode in MODES, mode
    from .index import Index  # qdrant-client costs ~1 s to import: the route table imports this module
    where = Index.where(entity, types, since_ts, exclude_types=() if include_email else ("email",))
    indices, values = bm25.query_vector(q)
    vector, detail = None, None
    if mode != "sparse":
        vector, detail = _query_vector(index, embedder, q)
    if vector is None:
        found = index.sparse(indices, values, where, limit)
    elif mode == "dense":
        found = index.dense(vector, where, limit)
    else:
        found = index.hybrid(vector, indices, values, where, limit, k=RRF_K)
    used = mode if vector is not None or mode == "sparse" else "sparse"
    return {"query": q, "mode": mode, "mode_used": used, "degraded": NO_EMBEDDINGS if used != mode else None,
            "degraded_detail": detail, "hits": [hit(score, payload, q) for score, payload in found]}


def _query_vector(index, embedder, q: str) -> tuple:
    """(the query's dense vector, None), or (None, why there is none)."""
    if embedder is None:
        return None, "no embedding server is configured (CRM_EMBED_URL)"
    if not index.has_dense():
        return None, "the index holds no dense vectors yet (run an ingest while the embedding server answers)"
    try:
        return embedder.embed([q])[0], None
    except EmbedError as exc:
        return None, exc.message


def hit(score: float, payload: dict, q: str) -> dict:
    date_ts = payload.get("date_ts")
    return {"score": score, "type": payload["type"], "title": payload.get("title"),
            "snippet": snippet(payload.get("text") or "", q),
            "date": datetime.fromtimestamp(date_ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if date_ts is not None else None,
            "source_table": payload["source_table"], "source_id": payload["source_id"],
            "chunk_index": payload.get("chunk_index", 0), "entity_ids": payload.get("entity_ids", []),
            "names": payload.get("names", []), "link": payload.get("link"), "api": payload.get("api")}


def snippet(text: str, q: str) -> str:
    """About SNIPPET_CHARS of `text` around the first word of `q` it contains (else its start)."""
    flat = " ".join(text.split())
    if len(flat) <= SNIPPET_CHARS:
        return flat
    words = [w for w in bm25.WORD.findall(q.lower()) if w not in bm25.STOP_WORDS]
    hits = [m.start() for w in words for m in [re.search(rf"\b{re.escape(w)}", flat, re.I)] if m]
    start = max(0, min(hits) - SNIPPET_CHARS // 3) if hits else 0
    if start:
        start = flat.find(" ", start) + 1 or start
    piece = flat[start:start + SNIPPET_CHARS]
    if start + SNIPPET_CHARS < len(flat):
        piece = piece.rsplit(" ", 1)[0] + "…"
    return ("…" if start else "") + piece
