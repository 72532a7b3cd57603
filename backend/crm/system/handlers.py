"""Liveness, readiness, what is switched on, and the API document."""
from ..db import migrate
from ..http.openapi import build_document
from ..http.responses import json_response
from ..shapes import BOOLEAN, OBJECT, STRING, obj

STATUS = obj(status=STRING)
FEATURES = obj(email_capture=BOOLEAN, local_model=BOOLEAN, smtp=BOOLEAN)
DOCUMENT = obj(openapi=STRING, info=OBJECT, paths=OBJECT)


def health(req):
    """Liveness: the process answers."""
    return {"status": "ok"}


def ready(req):
    """Readiness: the database answers and every migration is applied (503 otherwise)."""
    try:
        req.db.execute("SELECT 1").fetchone()
        waiting = [m.path.name for m in migrate.pending_all(req.db)]
    except Exception as exc:  # any failure here means "not ready", reported, not raised
        return json_response({"error": "database not ready", "detail": type(exc).__name__}, status=503)
    if waiting:
        return json_response({"error": "migrations pending", "pending": waiting}, status=503)
    return {"status": "ready"}


def features(req):
    """What this server has switched on, so the browser asks only for what answers (never a setting's value)."""
    config = req.config
    return {"email_capture": req.app.email is not None, "local_model": bool(config.spark_base_url),
            "smtp": bool(config.smtp_host)}


def openapi(req):
    """This API, described from the route table: the bare OpenAPI 3.1 document (the one answer without the envelope)."""
    return json_response(build_document(req.app.router.routes))
