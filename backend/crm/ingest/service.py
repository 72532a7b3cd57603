"""Retrieval as the server runs it: the one index (opened on first use), the embedders, one ingest
run at a time, and what follows a Gmail sync.

The App holds one `Retrieval`. In local mode its `Index` holds the folder's lock for as long as
the process lives, so `python -m crm.ingest run` refuses to start beside a running server (and
the other way round: while the CLI runs, the server's search answers 503 and retries next time).
qdrant-client costs about a second to import: it is imported on first use, not at start-up.
"""
import logging
import threading

from ..errors import Unavailable
from . import embed

log = logging.getLogger("crm.ingest")

QUERY_TIMEOUT_SEC = 10  # a search waits at most this for the query's embedding, then answers sparse


class Retrieval:
    def __init__(self, config, pool):
        self.config, self.pool = config, pool
        self.embedder = embed.from_config(config)
        # A query is asked once, briefly: a failure answers sparse at once rather than after retries.
        self.query_embedder = embed.from_config(config)
        if self.query_embedder:
            self.query_embedder.retries = 0
            self.query_embedder.timeout = min(config.embed_timeout_sec, QUERY_TIMEOUT_SEC)
        self._index = None
        self._opening = threading.Lock()
        self._running = threading.Lock()  # one ingest run at a time
        self.running = None     # {"full", "started_at", "done", "total"} while a run goes on
        self.last_error = None  # why the last run failed, in words

    # -- the index ---------------------------------------------------------------------------------

    def index(self):
        """The open index; Unavailable (503) while another process holds the local folder."""
        from . import index as index_module  # the import costs ~1 s: paid on first use
        with self._opening:
            if self._index is None:
                try:
                    self._index = index_module.open_index(self.config)
                except index_module.IndexBusy as exc:
                    raise Unavailable(f"{exc}: an ingest run from the command line (python -m crm.ingest run)"
                                      " probably holds it; try again when it ends") from None
            return self._index

    def open_soon(self) -> threading.Thread:
        """Open the index in the background, so the server holds a local folder from start-up on."""
        def opening():
            try:
                self.index()
            except Unavailable as exc:
                log.warning("search index not opened: %s", exc.message)
        worker = threading.Thread(target=opening, name="index-open", daemon=True)
        worker.start()
        return worker

    def close(self) -> None:
        with self._opening:
            if self._index is not None:
                self._index.close()
                self._index = None

    # -- ingest ------------------------------------------------------------------------------------

    def run(self, full: bool = False) -> dict:
        """One ingest run now (waits for a run already going); its summary."""
        from . import pipeline
        with self._running:
            index = self.index()
            self.running = {"full": full, "done": 0, "total": 0}

            def progress(done, total):
                self.running.update(done=done, total=total)
            conn = self.pool.acquire()
            try:
                summary = pipeline.run(conn, index, self.embedder, full=full, progress=progress)
                self.last_error = None
                return summary
            except Exception:
                self.last_error = "the last ingest run failed (see the server log)"
                raise
            finally:
                self.pool.release(conn)
                self.running = None

    def start(self, full: bool = False):
        """Start a run in the background; None if one is already going."""
        if self._running.locked():
            return None
        worker = threading.Thread(target=self._run_logged, args=(full,), name="ingest-run", daemon=True)
        worker.start()
        return worker

    def _run_logged(self, full: bool) -> None:
        try:
            summary = self.run(full)
            log.info("ingest: %s", {k: summary[k] for k in ("mode", "chunks", "added", "reembedded", "removed",
                                                             "sparse_only", "seconds")})
        except Unavailable as exc:
            self.last_error = exc.message
            log.warning("ingest: %s", exc.message)
        except Exception:  # noqa: BLE001 - a background run must log, not vanish
            log.exception("ingest run failed")

    def after_sync(self, runs: list) -> None:
        """The ingest that follows a Gmail sync that changed mail: incremental, logged, never raising
        (crm.ingest.listeners.after_mail_synced refreshes what it depends on first)."""
        self._run_logged(False)

    # -- search and status -------------------------------------------------------------------------

    def search(self, **kwargs) -> dict:
        from . import search
        return search.search(self.index(), self.query_embedder, **kwargs)

    def status(self) -> dict:
        from .index import LOCAL_GUIDANCE, local_path
        local = not self.config.qdrant_url
        where = str(local_path(self.config)) if local else _without_credentials(self.config.qdrant_url)
        shown = {"store": "local" if local else "server", "where": where, "collection": "crm_chunks",
                 "local_guidance": LOCAL_GUIDANCE, "running": dict(self.running) if self.running else None,
                 "last_error": self.last_error,
                 "embedding": {"configured": self.embedder is not None, "model": self.config.embed_model,
                               "server": self.embedder.where if self.embedder else None}}
        try:
            index = self.index()
        except Unavailable as exc:
            return {**shown, "available": False, "unavailable_because": exc.message, "points": None,
                    "sparse_only": None, "last_run": None, "dense_vectors": None, "dense_available": None,
                    "advice": None}
        state = index.state() or {}
        points = index.count()
        last = state.get("last_run")
        return {**shown, "available": True, "unavailable_because": None, "points": points,
                "sparse_only": index.count(only_sparse=True), "last_run": last, "dense_vectors": index.has_dense(),
                "dense_available": self.embedder is not None and not (last or {}).get("embed_error"),
                "advice": _advice(local, points, LOCAL_GUIDANCE)}


def _advice(local: bool, points: int, guidance: int):
    if not local:
        return None
    if points > guidance:
        return (f"The index holds {points:,} chunks, more than local mode is made for (~{guidance:,}): searches slow"
                " down. Run a Qdrant server and set CRM_QDRANT_URL (docs/RETRIEVAL.md, Ingest), then run a full ingest.")
    if points > guidance * 0.8:
        return f"The index holds {points:,} chunks; at ~{guidance:,} move to a Qdrant server (CRM_QDRANT_URL)."
    return None


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
