-- crm.ingest's own schema additions (namespace "ingest"). canonical_entities.merged_into references
-- the table itself: without an index every deleted entity (reset-all-data) scanned the whole table
-- for rows merged into it, quadratic at 50,000 entities.
CREATE INDEX canonical_entities_merged ON canonical_entities(merged_into) WHERE merged_into IS NOT NULL;
