-- Matched mail whose body is not in yet: few rows, so counting a mailbox's backlog (GET /api/email/status)
-- reads these and probes each one's sightings, instead of every sighting of the mailbox (170 ms a
-- mailbox at 100,000 emails; 3 ms this way).
CREATE INDEX emails_bodies_pending ON emails(id) WHERE is_matched = 1 AND has_body = 0;
