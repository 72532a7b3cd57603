"""THE route table. Every endpoint of the API is one row here.

(method, path, handler, auth[, body, query]). Auth levels: `public`; `any`
(every signed-in principal, bots included); `user` (admins and members);
`admin`; `bot_or_admin`. The OpenAPI document and the auth-matrix test are
both generated from this list.
"""
from ..admin import handlers as admin
from ..auth import handlers as auth
from ..system import handlers as system
from .routing import Query, route

PAGE = (Query("limit", "integer", "page size (1-1000, default 50)"), Query("offset", "integer", "rows to skip"))

ROUTES = [
    # System
    route("GET", "/api/health", system.health, "public"),
    route("GET", "/api/ready", system.ready, "public"),
    route("GET", "/api/openapi.json", system.openapi, "public"),
    # Sign-in and users
    route("GET", "/api/bootstrap/status", auth.bootstrap_status, "public"),
    route("POST", "/api/auth/register", auth.register, "public", auth.REGISTER),
    route("POST", "/api/auth/login", auth.login, "public", auth.LOGIN),
    route("POST", "/api/auth/accept-invite", auth.accept_invite, "public", auth.ACCEPT_INVITE),
    route("GET", "/api/auth/me", auth.me, "any"),
    route("POST", "/api/auth/logout", auth.logout, "any"),
    route("POST", "/api/auth/change-password", auth.change_password, "user", auth.CHANGE_PASSWORD),
    route("GET", "/api/users", auth.list_users, "user"),
    route("POST", "/api/admin/users", auth.create_user, "admin", auth.CREATE_USER),
    route("PATCH", "/api/admin/users/{id}", auth.update_user, "admin", auth.UPDATE_USER),
    # Administration
    route("GET", "/api/audit-log", admin.audit_log, "admin", query=PAGE + (
        Query("entity_type"), Query("entity_id"), Query("actor_id", doc="user id"), Query("action"),
        Query("since", doc="ISO-8601, inclusive"), Query("until", doc="ISO-8601, exclusive"),
    )),
    route("GET", "/api/security/status", admin.security_status, "admin"),
]
