"""The agentic substrate: canonical entities across the grid and the classic CRM, relationship
strength, chunking and retrieval over Qdrant, and redaction for any external model.

- `entities`: the SQL of canonical_entities and entity_links (the only writer of both).
"""
