"""The Qdrant collection `crm_chunks`: named `dense` (cosine) and `sparse` (BM25, IDF modifier) vectors.

Embedded by default: qdrant-client's local mode in CRM_DATA_DIR/qdrant. Local mode is not
thread-safe (concurrent calls lose writes: qdrant-client issue #1193) and only one client may
open the folder (a file lock), so one `Index` is owned by one process (the server's App, or the
CLI when no server runs) and every call goes through its lock. Local mode is for up to
~20,000 points (LOCAL_GUIDANCE); `CRM_QDRANT_URL` points the same code at a Qdrant server.

The collection's metadata records how its vectors were made (`dense_model`, `dense_size`,
`avgdl`) and the last run; each point's payload says whether it has its dense vector yet
(`dense`), so points stored while no embedding server answered get one on a later run.

Local mode stores each point in its own SQLite commit; its file is switched to WAL with
synchronous=NORMAL (`_quick_commits`) so a commit does not wait for the disk.
"""
import sqlite3
import threading
import warnings
from pathlib import Path

from qdrant_client import QdrantClient, models

COLLECTION = "crm_chunks"
LOCAL_GUIDANCE = 20_000   # points; beyond it local mode gets slow (hybrid p50 0.45 s at 20k, 3 s at 100k): use a server
SCROLL_PAGE = 1000
FINGERPRINT = ["content_hash", "meta_hash", "dense"]
# Filtered payload fields, indexed on a server (local mode has no payload indexes and warns).
PAYLOAD_INDEXES = {"source_table": models.PayloadSchemaType.KEYWORD, "source_id": models.PayloadSchemaType.KEYWORD,
                   "type": models.PayloadSchemaType.KEYWORD, "entity_ids": models.PayloadSchemaType.KEYWORD,
                   "date_ts": models.PayloadSchemaType.INTEGER, "dense": models.PayloadSchemaType.BOOL}


class IndexBusy(Exception):
    """The local-mode folder is held by another process (a running server, or an ingest run)."""

    def __init__(self, path):
        super().__init__(f"the search index folder {path} is in use by another process")
        self.path = path


class Index:
    def __init__(self, client: QdrantClient, local: bool, where: str):
        self.client, self.local, self.where = client, local, where
        self._lock = threading.RLock()

    # -- opening -------------------------------------------------------------------------------------

    @classmethod
    def open_local(cls, path) -> "Index":
        """Local mode in `path`; IndexBusy when another process holds it."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        try:
            client = QdrantClient(path=str(path))
        except RuntimeError as exc:
            if "already accessed" in str(exc):
                raise IndexBusy(path) from None
            raise
        index = cls(client, True, str(path))
        index._quick_commits()
        return index

    @classmethod
    def open_server(cls, url: str, api_key=None, timeout: int = 30) -> "Index":
        return cls(QdrantClient(url=url, api_key=api_key, timeout=timeout), False, url)

    def close(self) -> None:
        with self._lock:
            self.client.close()

    # -- the collection ------------------------------------------------------------------------------

    def state(self):
        """The collection's metadata (how its vectors were made, the last run), or None when it does not exist."""
        with self._lock:
            if not self.client.collection_exists(COLLECTION):
                return None
            info = self.client.get_collection(COLLECTION)
        return dict(info.config.metadata or {})

    def update_state(self, **values) -> None:
        with self._lock:
            self.client.update_collection(COLLECTION, metadata=values)

    def recreate(self, dense_size, metadata: dict) -> None:
        """A new, empty collection (sparse only when `dense_size` is None), replacing any old one."""
        dense = {"dense": models.VectorParams(size=dense_size, distance=models.Distance.COSINE)} if dense_size else {}
        with self._lock:
            if self.client.collection_exists(COLLECTION):
                self.client.delete_collection(COLLECTION)
            self.client.create_collection(
                COLLECTION, vectors_config=dense,
                sparse_vectors_config={"sparse": models.SparseVectorParams(modifier=models.Modifier.IDF)},
                metadata={**metadata, "dense_size": dense_size})
            if not self.local:
                for name, schema in PAYLOAD_INDEXES.items():
                    self.client.create_payload_index(COLLECTION, name, field_schema=schema)
            else:
                self._quick_commits()

    def _quick_commits(self) -> None:
        """WAL and synchronous=NORMAL on each local collection's SQLite file.

        Local mode commits every point on its own, and SQLite's defaults (a rollback journal,
        synchronous=FULL) make each commit wait for the disk twice: 3-6 ms a point on the
        development machine, 60 % of an ingest run (docs/PERFORMANCE.md, "Retrieval"). In WAL
        with NORMAL a commit does not wait for the disk; a power cut can lose the last commits but
        not corrupt the file, and the index is derived data: the next ingest run writes again
        whatever its fingerprints do not find. This reaches into qdrant-client's local-mode
        internals (pinned in requirements.txt); where they are not as expected nothing changes.
        """
        collections = getattr(getattr(self.client, "_client", None), "collections", None) or {}
        with self._lock:
            for collection in collections.values():
                storage = getattr(getattr(collection, "storage", None), "storage", None)
                if isinstance(storage, sqlite3.Connection) and not storage.in_transaction:
                    storage.execute("PRAGMA journal_mode=WAL")
                    storage.execute("PRAGMA synchronous=NORMAL")

    # -- points --------------------------------------------------------------------------------------

    def fingerprints(self) -> dict:
        """{point id: {content_hash, meta_hash, dense}} of every point."""
        found, offset = {}, None
        while True:
            with self._lock:
                page, offset = self.client.scroll(COLLECTION, limit=SCROLL_PAGE, offset=offset,
                                                  with_payload=FINGERPRINT, with_vectors=False)
            for point in page:
                found[str(point.id)] = point.payload or {}
            if offset is None:
                return found

    def upsert(self, points: list) -> None:
        """points: [(id, dense vector or None, (indices, values), payload)]."""
        structs = [models.PointStruct(id=pid, payload=payload, vector={
            **({"dense": dense} if dense is not None else {}),
            "sparse": models.SparseVector(indices=sparse[0], values=sparse[1])}) for pid, dense, sparse, payload in points]
        with self._lock:
            self.client.upsert(COLLECTION, structs)

    def set_vectors(self, updates: list) -> None:
        """updates: [(id, {"dense": [...]} and/or {"sparse": (indices, values)})]."""
        def vector(named):
            return {name: models.SparseVector(indices=v[0], values=v[1]) if name == "sparse" else v
                    for name, v in named.items()}
        with self._lock:
            self.client.update_vectors(COLLECTION, [models.PointVectors(id=pid, vector=vector(v)) for pid, v in updates])

    def replace_payloads(self, items: list) -> None:
        """items: [(id, payload)]: each point's whole payload replaced, in one request."""
        operations = [models.OverwritePayloadOperation(overwrite_payload=models.SetPayload(payload=payload, points=[pid]))
                      for pid, payload in items]
        if operations:
            with self._lock:
                self.client.batch_update_points(COLLECTION, operations)

    def delete(self, point_ids: list) -> None:
        if point_ids:
            with self._lock:
                self.client.delete(COLLECTION, points_selector=models.PointIdsList(points=list(point_ids)))

    def count(self, only_sparse=False) -> int:
        """How many points (only those still waiting for their dense vector, with `only_sparse`)."""
        where = models.Filter(must=[models.FieldCondition(key="dense", match=models.MatchValue(value=False))]) \
            if only_sparse else None
        with self._lock:
            if not self.client.collection_exists(COLLECTION):
                return 0
            return self.client.count(COLLECTION, count_filter=where, exact=True).count

    # -- queries -------------------------------------------------------------------------------------

    @staticmethod
    def where(entity=None, types=None, since_ts=None, exclude_types=()):
        """The Qdrant filter of a search: an entity among the chunk's, one of `types`, an event at or after `since_ts`."""
        must, must_not = [], []
        if entity:
            must.append(models.FieldCondition(key="entity_ids", match=models.MatchValue(value=entity)))
        if types:
            must.append(models.FieldCondition(key="type", match=models.MatchAny(any=list(types))))
        if since_ts is not None:
            must.append(models.FieldCondition(key="date_ts", range=models.Range(gte=since_ts)))
        if exclude_types:
            must_not.append(models.FieldCondition(key="type", match=models.MatchAny(any=list(exclude_types))))
        return models.Filter(must=must, must_not=must_not) if must or must_not else None

    def dense(self, vector: list, where, limit: int) -> list:
        return self._query(query=vector, using="dense", query_filter=where, limit=limit)

    def sparse(self, indices: list, values: list, where, limit: int) -> list:
        if not indices:
            return []  # only stop words: nothing can match
        return self._query(query=models.SparseVector(indices=indices, values=values), using="sparse",
                           query_filter=where, limit=limit)

    def hybrid(self, vector: list, indices: list, values: list, where, limit: int, k: int = 60, depth: int = None) -> list:
        """Qdrant fuses the dense and the sparse candidates (`depth` each) by reciprocal rank, 1/(k + rank)."""
        depth = depth or max(limit * 4, 40)
        prefetch = [models.Prefetch(query=vector, using="dense", filter=where, limit=depth)]
        if indices:
            prefetch.append(models.Prefetch(query=models.SparseVector(indices=indices, values=values), using="sparse",
                                            filter=where, limit=depth))
        return self._query(prefetch=prefetch, query=models.RrfQuery(rrf=models.Rrf(k=k)), query_filter=where, limit=limit)

    def _query(self, **kwargs) -> list:
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # local mode's "more than 20,000 points" (status says it)
            if not self.client.collection_exists(COLLECTION):
                return []
            found = self.client.query_points(COLLECTION, with_payload=True, **kwargs).points
        return [(point.score, point.payload) for point in found]

    def has_dense(self) -> bool:
        with self._lock:
            if not self.client.collection_exists(COLLECTION):
                return False
            vectors = self.client.get_collection(COLLECTION).config.params.vectors
        return isinstance(vectors, dict) and "dense" in vectors


def open_index(config) -> Index:
    """The index CRM_QDRANT_URL names, else local mode in CRM_DATA_DIR/qdrant (IndexBusy if it is held)."""
    if config.qdrant_url:
        return Index.open_server(config.qdrant_url, config.qdrant_api_key)
    return Index.open_local(local_path(config))


def local_path(config) -> Path:
    return Path(config.data_dir) / "qdrant"
