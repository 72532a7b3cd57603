"""One ingest run: the CRM's chunks now → the index, touching only what changed.

    summary = run(conn, index, embedder, full=False, progress=None)

Every run reads every chunk from SQLite (cheap) and the index's fingerprints (content hash,
payload hash, whether it has its dense vector), then:
- a point whose source is gone (soft-deleted, archived, unmatched, emptied) is deleted;
- a new chunk, or one whose text changed, is embedded and written (dense + sparse + payload);
- an unchanged text whose payload changed (its entities were resolved, a name edited) gets its
  payload replaced, not a new embedding;
- an unchanged point stored without its dense vector gets one when the embedder answers;
- the rest is skipped.

The BM25 average length: every run computes the corpus's real one; while it stays within
AVGDL_DRIFT of the one the index's sparse vectors were written with, new vectors use the recorded
one (so all share it); beyond, every sparse vector is rewritten with the new average.

`full` (or a collection that is missing, made without dense vectors while the embedder answers
now, or made with another model or vector size) starts from an empty collection.

Without an embedder, or when it fails mid-run, points are written sparse-only (`dense: false`)
and the summary says why; search then answers in sparse mode. Calls the embedding server, so
never inside a transaction; `conn` is only read.
"""
import logging
import time

from ..clock import now_iso
from . import bm25, chunks
from .embed import EmbedError

log = logging.getLogger("crm.ingest")

AVGDL_DRIFT = 0.10
WRITE_BATCH = 64  # points per upsert (and per embedding request group)


def run(conn, index, embedder, full: bool = False, progress=None) -> dict:
    """Bring `index` up to date with the CRM; returns the summary (also stored as the index's last run).
    `progress(done, total)` is called as chunks are written."""
    started = time.monotonic()
    found = chunks.collect(conn)
    real_avgdl = bm25.average_length(c.text for c in found)
    run = _Run(index, embedder, progress)
    state = index.state()
    rebuild, why = _rebuild(state, run, full, found)
    if rebuild:
        index.recreate(run.dense_size, {"dense_model": embedder.model if run.dense_size else None,
                                        "avgdl": real_avgdl})
        state = index.state()
    run.collection_dense = index.has_dense()
    avgdl = state.get("avgdl") or real_avgdl
    resparse = abs(real_avgdl - avgdl) > AVGDL_DRIFT * avgdl
    if resparse:
        avgdl = real_avgdl
    existing = {} if rebuild else index.fingerprints()
    wanted = {c.id: c for c in found}
    gone = [pid for pid in existing if pid not in wanted]
    index.delete(gone)
    new, relinked, backfill, unchanged = _sort(found, existing, run.can_embed and run.collection_dense)
    run.total = len(new) + len(relinked) + len(backfill) + (len(unchanged) if resparse else 0)
    run.write(new, avgdl)
    for start in range(0, len(relinked), WRITE_BATCH):
        batch = relinked[start:start + WRITE_BATCH]
        index.replace_payloads([(c.id, {**c.payload, "dense": bool(existing[c.id].get("dense"))}) for c in batch])
        run.advance(len(batch))
    run.add_dense(backfill)
    if resparse:
        run.resparse(unchanged + relinked + backfill, avgdl)
    summary = {
        "mode": "full" if rebuild else "incremental", "rebuilt_because": why, "chunks": len(found),
        "added": sum(1 for c in new if c.id not in existing), "reembedded": sum(1 for c in new if c.id in existing),
        "payload_updated": len(relinked), "dense_backfilled": run.backfilled, "unchanged": len(unchanged),
        "removed": len(gone), "sparse_only": run.sparse_only, "resparsed": len(found) if resparse else 0,
        "avgdl": round(avgdl, 3), "dense_vectors": run.collection_dense,
        "embed_error": run.error, "finished_at": now_iso(), "seconds": round(time.monotonic() - started, 3)}
    index.update_state(avgdl=avgdl, last_run=summary)
    return summary


def _rebuild(state, run, full: bool, found: list) -> tuple:
    """(whether to start from an empty collection, why). Learns the dense size when it must."""
    if state is not None and not full and not run.can_embed:
        return False, None
    if state is not None and not full and state.get("dense_size") and state.get("dense_model") == run.embedder.model:
        run.dense_size = state["dense_size"]
        return False, None
    run.probe(found)  # the vector size, from the first embedding (None when the embedder fails)
    if full:
        return True, "asked for (--full)"
    if state is None:
        return True, "no collection yet"
    if run.dense_size is None:
        return False, None  # cannot embed now: keep the collection and what it has
    if not state.get("dense_size"):
        return True, "the embedding server answers now; the collection was made without dense vectors"
    return True, f"the embedding model changed ({state.get('dense_model')} → {run.embedder.model})"


def _sort(found: list, existing: dict, backfill_dense: bool) -> tuple:
    new, relinked, backfill, unchanged = [], [], [], []
    for chunk in found:
        known = existing.get(chunk.id)
        if known is None or known.get("content_hash") != chunk.content_hash:
            new.append(chunk)
        elif known.get("meta_hash") != chunk.payload["meta_hash"]:
            (backfill if backfill_dense and not known.get("dense") else relinked).append(chunk)
        elif backfill_dense and not known.get("dense"):
            backfill.append(chunk)
        else:
            unchanged.append(chunk)
    return new, relinked, backfill, unchanged


class _Run:
    """The embedding side of one run: falls back to sparse-only at the first failure, and counts."""

    def __init__(self, index, embedder, progress):
        self.index, self.embedder, self.progress = index, embedder, progress
        self.can_embed = embedder is not None
        self.dense_size = None
        self.collection_dense = False  # whether the collection has a dense vector at all
        self.error = None if embedder else "no embedding server is configured (CRM_EMBED_URL)"
        self.done = self.total = self.sparse_only = self.backfilled = 0
        self._probed = {}

    def probe(self, found: list) -> None:
        if not self.can_embed:
            return
        text = found[0].text if found else "probe"
        vectors = self.vectors([text])
        if vectors:
            self.dense_size = len(vectors[0])
            if found:
                self._probed[found[0].id] = vectors[0]

    def vectors(self, texts: list):
        """Dense vectors for `texts`, or None (and sparse-only from here on) when the embedder fails."""
        if not self.can_embed:
            return None
        try:
            return self.embedder.embed(texts)
        except EmbedError as exc:
            log.warning("ingest: %s; storing sparse vectors only for the rest of this run", exc.message)
            self.can_embed, self.error = False, exc.message
            return None

    def write(self, todo: list, avgdl: float) -> None:
        for start in range(0, len(todo), WRITE_BATCH):
            batch = todo[start:start + WRITE_BATCH]
            dense = self._dense_of(batch)
            points = []
            for chunk, vector in zip(batch, dense):
                points.append((chunk.id, vector, bm25.document_vector(chunk.text, avgdl),
                               {**chunk.payload, "dense": vector is not None}))
                self.sparse_only += vector is None
            self.index.upsert(points)
            self.advance(len(batch))

    def _dense_of(self, batch: list) -> list:
        if not self.collection_dense:
            return [None] * len(batch)  # a sparse-only collection
        missing = [c for c in batch if c.id not in self._probed]
        vectors = self.vectors([c.text for c in missing]) if missing else []
        by_id = dict(self._probed)
        if vectors:
            by_id.update(zip((c.id for c in missing), vectors))
        return [by_id.get(c.id) for c in batch]

    def add_dense(self, todo: list) -> None:
        for start in range(0, len(todo), WRITE_BATCH):
            batch = todo[start:start + WRITE_BATCH]
            vectors = self.vectors([c.text for c in batch])
            if vectors is None:
                self.advance(len(todo) - start)
                return
            self.index.set_vectors([(c.id, {"dense": v}) for c, v in zip(batch, vectors)])
            self.index.replace_payloads([(c.id, {**c.payload, "dense": True}) for c in batch])
            self.backfilled += len(batch)
            self.advance(len(batch))

    def resparse(self, todo: list, avgdl: float) -> None:
        for start in range(0, len(todo), WRITE_BATCH):
            batch = todo[start:start + WRITE_BATCH]
            self.index.set_vectors([(c.id, {"sparse": bm25.document_vector(c.text, avgdl)}) for c in batch])
            self.advance(len(batch))

    def advance(self, count: int) -> None:
        self.done += count
        if self.progress:
            self.progress(self.done, self.total)
