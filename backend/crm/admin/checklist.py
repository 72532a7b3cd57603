"""The go-live security checklist: each item with ok and a detail an operator can act on.

One function for the web UI (`GET /api/security/status`) and the operator CLI
(`admin_cli.py security-status`), so the two can never disagree.
"""
from datetime import timedelta

from ..auth import users
from ..backups import service as backups
from ..clock import iso, utcnow


def report(config, conn) -> dict:
    admins = users.active_admins(conn)
    total_users = users.count(conn)
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
        _backup_check(conn),
    ]
    return {"env": config.env, "ok": all(item["ok"] for item in checks), "checks": checks, "hsts": config.production}


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
