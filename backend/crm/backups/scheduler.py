"""The backup loop's step: re-read the policy, take what is due, verify it, prune."""
import logging

from . import service
from .handlers import read_policy

log = logging.getLogger("crm.backups")


def step(app, now=None) -> dict:
    conn = app.pool.acquire()
    try:
        with app.gate.shared():  # never while a full restore holds the database
            result = service.run_scheduled(app.config, conn, read_policy(conn), now)
    finally:
        app.pool.release(conn)
    if result["taken"] or result["pruned"]:
        log.info("backups: took %d, pruned %d", len(result["taken"]), len(result["pruned"]))
    return result
