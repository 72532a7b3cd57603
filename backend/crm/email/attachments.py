"""Attachments of matched email: stub rows at capture, bytes fetched afterwards by a worker.

Files live under `CRM_DATA_DIR/email_attachments/<first two hex>/<sha256>`, so the same file
sent to three partners is stored once. An attachment over `CRM_GMAIL_MAX_ATTACHMENT_MB` is
listed but never downloaded. Downloads run `CRM_GMAIL_ATTACH_CONCURRENCY` at a time; the
database is written from the calling thread only.
"""
import hashlib
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..db import transaction
from . import store
from .errors import GmailError, PermissionDenied

log = logging.getLogger("crm.email.attachments")
FOLDER = "email_attachments"


def storage_root(data_dir) -> Path:
    return Path(data_dir) / FOLDER


def keep(root: Path, data: bytes) -> tuple:
    """Write `data` once per content: (sha256, path relative to `root`)."""
    digest = hashlib.sha256(data).hexdigest()
    relative = Path(digest[:2]) / digest
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of its own: two downloads of the same file may race here, and the last
        # rename simply wins with identical bytes. Never a half-written file under the final name.
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=digest[:8], suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(partial, target)
    return digest, str(relative)


def download_pending(conn, client_for, root: Path, max_bytes: int, concurrency: int, batch=100) -> dict:
    """One pass over the pending attachments. `client_for(account_id)` gives that mailbox's Gmail client.
    One that fails for a temporary reason stays pending for the next pass (up to five attempts)."""
    counts = {"stored": 0, "too_large": 0, "failed": 0, "retry": 0}
    pending = store.pending_attachments(conn, limit=100_000)
    for start in range(0, len(pending), batch):
        small = []
        with transaction(conn):
            for item in pending[start:start + batch]:
                if (item["size"] or 0) > max_bytes:
                    store.finish_attachment(conn, item["id"], "too_large", error=f"larger than {max_bytes // (1024 * 1024)} MB")
                    counts["too_large"] += 1
                elif not item["gmail_attachment_id"]:
                    store.finish_attachment(conn, item["id"], "failed", error="Gmail gave no attachment id")
                    counts["failed"] += 1
                else:
                    small.append(item)
        with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="gmail-attachment") as pool:
            results = list(pool.map(lambda item: _fetch(client_for, root, max_bytes, item), small))
        with transaction(conn):
            for item, (status, digest, path, error) in zip(small, results):
                store.finish_attachment(conn, item["id"], status, sha256=digest, storage_path=path, error=error)
                counts[status if status != "pending" else "retry"] += 1
    return counts


def _fetch(client_for, root, max_bytes, item) -> tuple:
    """(status, sha256, path, error) for one attachment; a temporary failure leaves it pending."""
    try:
        data = client_for(item["account_id"]).get_attachment(item["gmail_message_id"], item["gmail_attachment_id"])
    except PermissionDenied as exc:
        return "failed", None, None, exc.message
    except GmailError as exc:
        return "pending", None, None, exc.message  # tried again next time, up to the attempts limit
    if len(data) > max_bytes:
        return "too_large", None, None, f"larger than {max_bytes // (1024 * 1024)} MB"
    digest, path = keep(root, data)
    return "stored", digest, path, None
