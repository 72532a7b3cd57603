"""The agentic substrate: canonical entities across the grid and the classic CRM, relationship
strength, chunking and retrieval over Qdrant, and redaction for any external model.

- `entities`: the SQL of canonical_entities and entity_links (the only writer of both).
- `redact`: scrub / rehydrate, the placeholders that stand in for known and found names,
  addresses, phones and amounts.
- `external`: `ask_external`, the one client for an external model (Anthropic), behind redact.
"""
