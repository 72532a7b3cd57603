DROP INDEX canonical_entities_merged;
