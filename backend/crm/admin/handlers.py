"""Admin views of the system: the audit trail and the go-live security checklist."""
from datetime import timedelta

from .. import audit
from ..auth import users
from ..backups import service as backups
from ..clock import iso, parse_iso, utcnow
from ..errors import Invalid
from ..results import Page
from ..shapes import ANY, BOOLEAN, INTEGER, STRING, array, maybe, obj
from ..validation import page_params

AUDIT_FILTERS = ("entity_type", "entity_id", "actor_id", "action")
AUDIT_ENTRY = obj(id=ANY, at=STRING, entity_type=STRING, entity_id=maybe(STRING), action=STRING, changes=ANY)
SECURITY = obj(env=STRING, ok=BOOLEAN, hsts=BOOLEAN, checks=array(obj(name=STRING, ok=BOOLEAN, detail=STRING)),
               banned_addresses=INTEGER, banned_users=INTEGER)


def audit_log(req):
    """Audit entries, newest first, filtered by entity, actor, action and date range."""
    limit, offset = page_params(req.query)
    errors = {}
    for name in ("since", "until"):
        if req.query.get(name):
            try:
                parse_iso(req.query[name])
            except ValueError:
                errors[name] = "must be an ISO-8601 date or date-time"
    if errors:
        raise Invalid(errors)
    filters = {name: req.query.get(name) for name in AUDIT_FILTERS}
    entries, total = audit.query(
        req.db, since=req.query.get("since"), until=req.query.get("until"), limit=limit, offset=offset, **filters
    )
    return Page(entries, total, limit, offset)


def security_status(req):
    """The go-live checklist: each item with ok and a detail an operator can act on."""
    config = req.config
    admins = users.active_admins(req.db)
    total_users = users.count(req.db)
    banned = req.app.shield.banned()
    checks = [
        _check("secret_key", config.secret_from_env, "CRM_SECRET_KEY is set" if config.secret_from_env
               else "using a generated development key; set CRM_SECRET_KEY (32+ characters)"),
        _check("production_mode", config.production, f"CRM_ENV={config.env}"),
        _check("cors", True, "allowed origins: " + ", ".join(config.cors_origins) if config.cors_origins
               else "same origin only"),
        _check("proxy_trust", True, _proxy_trust(config)),
        _check("rate_limits", min(config.login_rate_limit, config.write_rate_limit, config.get_rate_limit) > 0,
               f"login {config.login_rate_limit}/min, writes {config.write_rate_limit}/min, reads {config.get_rate_limit}/min"),
        _check("bootstrap_closed", total_users > 0, "registration closed" if total_users else "no users yet: anyone can register the first admin"),
        _check("admin_count", admins >= 1, f"{admins} active admin(s)" + ("; two are safer than one" if admins == 1 else "")),
        _backup_check(req.db),
    ]
    return {
        "env": config.env,
        "ok": all(item["ok"] for item in checks),
        "checks": checks,
        "hsts": config.production,
        "banned_addresses": banned["addresses"],
        "banned_users": banned["users"],
    }


def _proxy_trust(config) -> str:
    if not config.trust_proxy:
        return "X-Forwarded-For is ignored"
    if config.proxy_addresses:
        return "X-Forwarded-For is trusted from " + ", ".join(config.proxy_addresses)
    return "X-Forwarded-For is trusted from any peer (CRM_TRUST_PROXY=1): only safe behind your own proxy"


def _check(name, ok, detail):
    return {"name": name, "ok": bool(ok), "detail": detail}


def _backup_check(conn):
    last = backups.latest(conn)
    if last is None:
        return _check("last_backup", False, "no backup recorded yet")
    recent = last["created_at"] >= iso(utcnow() - timedelta(hours=48))
    verified = "verified" if last["verified_ok"] else ("NOT verified" if last["verified_ok"] is None else "FAILED verification")
    return _check("last_backup", recent and last["verified_ok"] is not False,
                  f"{last['kind']} backup at {last['created_at']} ({verified})" + ("" if recent else "; older than 48 hours"))
