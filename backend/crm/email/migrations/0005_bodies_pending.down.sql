DROP INDEX emails_bodies_pending;
