"""The agentic substrate: canonical entities across the grid and the classic CRM, relationship
strength, chunking and retrieval over Qdrant, and redaction for any external model.

- `entities`: the SQL of canonical_entities and entity_links (the only writer of both).
- Retrieval (docs/RETRIEVAL.md): `chunks` (what is indexed, point ids), `bm25` (sparse vectors),
  `embed` (the embedding server's client), `index` (the Qdrant collection crm_chunks), `pipeline`
  (one ingest run), `search`, `service` (the App's index and runs), `handlers` (GET /api/search,
  the admin ingest routes), `__main__` (python -m crm.ingest run).
"""
