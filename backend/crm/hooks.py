"""Hook lists: where a change must flow back against the import direction.

The owner of a change announces it; a feature that must follow registers a
listener at start-up (crm.app), so the owner never imports the follower. The
classic CRM announces, the fundraising grid listens (fundraising/listeners.py).
A hook may also be a provider: the grid asks `relationship_levels` for values
that crm.ingest computes, without importing it.

Listeners run in registration order, synchronously, on the announcer's
connection and inside its transaction: one that raises rolls the whole change
back, exactly as if the announcer had called it. `mail_synced` is the
exception: it is announced after the work, outside any transaction, on the
announcer's background thread (what follows calls the embedding server).
"""


class Hook:
    def __init__(self, name: str):
        self.name = name
        self.listeners = []

    def register(self, listener):
        """Add a listener (once: registering it again, as every App does, changes nothing)."""
        if listener not in self.listeners:
            self.listeners.append(listener)
        return listener

    def announce(self, *args) -> list:
        """Call every listener with `args`; their results, in order."""
        return [listener(*args) for listener in self.listeners]

    def ask(self, *args, default=None):
        """A provider hook's answer: the first listener's result, or `default` when none is registered."""
        return self.listeners[0](*args) if self.listeners else default


# (conn, req, contact): a classic contact was edited (the updated record).
contact_changed = Hook("contact_changed")
# (conn) -> {table: rows deleted}: reset-all-data is about to delete every classic record.
data_reset = Hook("data_reset")
# (app, runs): a Gmail sync cycle stored, matched or removed mail (`runs`: each mailbox's run
# summary; `app` the crm.app.App the capture belongs to). Announced by the sync loop and run-now,
# outside any transaction; the search index follows (crm.ingest.listeners).
mail_synced = Hook("mail_synced")
# (conn, investor_ids) -> {investor id: {"level": 0-4, "last_contact": "YYYY-MM-DD" | None, "who": name}}:
# the grid's read-only Relationship cells, provided by crm.ingest.strength (which the grid may not
# import). The grid reads the first listener's answer; with none registered, the cells are blank.
relationship_levels = Hook("relationship_levels")
