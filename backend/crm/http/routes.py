"""THE route table. Every endpoint of the API is one row here.

(method, path, handler, auth[, body, query]). Auth levels: `public`; `any`
(every signed-in principal, bots included); `user` (admins and members);
`admin`; `bot_or_admin`. The OpenAPI document and the auth-matrix test are
both generated from this list.
"""
from ..admin import handlers as admin
from ..admin import reset
from ..auth import handlers as auth
from ..backups import handlers as backups
from ..communications import handlers as communications
from ..contacts import handlers as contacts
from ..contacts import transfer
from ..feature_requests import handlers as feature_requests
from ..fundraising import handlers as grid
from ..importer import handlers as importer
from ..lp_profiles import handlers as lp_profiles
from ..opportunities import handlers as opportunities
from ..organizations import handlers as organizations
from ..reports import handlers as reports
from ..system import handlers as system
from ..tags import handlers as tags
from .routing import Query, route

PAGE = (Query("limit", "integer", "page size (1-1000, default 50)"), Query("offset", "integer", "rows to skip"))
LIST = PAGE + (Query("q", doc="search"), Query("sort", doc="fields, comma-separated; prefix - for descending"),
               Query("include_deleted", "integer", "1 shows deleted records (admins)"))
ITEM = (Query("include_deleted", "integer", "1 finds a deleted record (admins)"),)


def records_routes(path, module, noun, plural, body, filters=(), replace=True, patch=True):
    """The seven routes of a soft-deletable resource: list, create, get, put, patch, delete, restore."""
    item = path + "/{id}"
    rows = [
        route("GET", path, getattr(module, f"list_{plural}"), "user", query=LIST + tuple(Query(f) for f in filters)),
        route("POST", path, getattr(module, f"create_{noun}"), "user", body),
        route("GET", item, getattr(module, f"get_{noun}"), "user", query=ITEM),
    ]
    if replace:
        rows.append(route("PUT", item, getattr(module, f"replace_{noun}"), "user", body))
    if patch:
        rows.append(route("PATCH", item, getattr(module, f"patch_{noun}"), "user", body))
    rows += [
        route("DELETE", item, getattr(module, f"delete_{noun}"), "user"),
        route("POST", item + "/restore", getattr(module, f"restore_{noun}"), "user"),
    ]
    return rows


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
    route("GET", "/api/users", auth.list_users, "user", query=PAGE),
    route("POST", "/api/admin/users", auth.create_user, "admin", auth.CREATE_USER),
    route("PATCH", "/api/admin/users/{id}", auth.update_user, "admin", auth.UPDATE_USER),
    # Classic CRM
    *records_routes("/api/organizations", organizations, "organization", "organizations", organizations.ORGANIZATION.body,
                    organizations.ORGANIZATION.filters + ("tag",)),
    route("GET", "/api/organizations/{id}/contacts", contacts.organization_contacts, "user", query=LIST),
    *records_routes("/api/contacts", contacts, "contact", "contacts", contacts.CONTACT.body, contacts.CONTACT.filters + ("tag",)),
    route("GET", "/api/contacts/{id}/communications", contacts.contact_communications, "user", query=LIST),
    *records_routes("/api/opportunities", opportunities, "opportunity", "opportunities", opportunities.OPPORTUNITY.body,
                    opportunities.OPPORTUNITY.filters),
    route("PATCH", "/api/opportunities/{id}/stage", opportunities.set_stage, "user", opportunities.STAGE),
    *records_routes("/api/communications", communications, "communication", "communications",
                    communications.COMMUNICATION.body, communications.COMMUNICATION.filters + ("since", "until")),
    *records_routes("/api/lp-profiles", lp_profiles, "lp_profile", "lp_profiles", lp_profiles.LP_PROFILE.body,
                    lp_profiles.LP_PROFILE.filters),
    route("GET", "/api/tags", tags.list_tags, "user", query=LIST),
    route("POST", "/api/tags", tags.create_tag, "user", tags.TAG.body),
    route("DELETE", "/api/tags/{id}", tags.delete_tag, "user"),
    route("POST", "/api/tags/{id}/restore", tags.restore_tag, "user"),
    *records_routes("/api/feature-requests", feature_requests, "feature_request", "feature_requests",
                    feature_requests.FEATURE_REQUEST.body, feature_requests.FEATURE_REQUEST.filters),
    route("POST", "/api/feature-requests/{id}/vote", feature_requests.vote_feature_request, "user"),
    route("GET", "/api/reports/dashboard", reports.dashboard, "user"),
    route("GET", "/api/reports/pipeline", reports.pipeline, "user"),
    route("GET", "/api/reports/lp-breakdown", reports.lp_breakdown, "user"),
    route("GET", "/api/reports/activity", reports.activity, "user", query=(Query("weeks", "integer", "1-104, default 12"),)),
    route("GET", "/api/export/contacts", transfer.export_contacts, "user", query=(Query("format", doc="csv (default) or json"),)),
    route("POST", "/api/import/csv", transfer.import_contacts, "user", "text/csv",
          query=(Query("dry_run", "integer", "1 reports what would happen without writing"),)),
    # Fundraising grid
    route("GET", "/api/fundraising/state", grid.get_state, "user", query=(Query("rows", "integer", "0 leaves the rows out"),)),
    route("PUT", "/api/fundraising/state", grid.put_state, "user", "application/json", large_body=True),
    route("POST", "/api/fundraising/ops", grid.post_ops, "user", "application/json"),
    route("GET", "/api/fundraising/changes", grid.changes, "user", query=(Query("since", "integer", "your last version"),)),
    route("GET", "/api/fundraising/events", grid.events, "user", query=(Query("since", "integer", "or send Last-Event-ID"),)),
    route("GET", "/api/fundraising/rows", grid.list_rows, "user", query=PAGE + (
        Query("view_id"), Query("q", doc="search every cell"), Query("archived", "integer", "1 lists archived rows"),
        Query("version", "integer", "cut the page from this version (the first page's); 409 once the server no longer holds it"))),
    route("GET", "/api/fundraising/rows/{id}", grid.get_row, "user"),
    route("GET", "/api/fundraising/rows/{id}/history", grid.row_history, "user", query=PAGE),
    route("GET", "/api/fundraising/rows/{id}/comments", grid.list_comments, "user"),
    route("POST", "/api/fundraising/rows/{id}/comments", grid.create_comment, "user", grid.COMMENT),
    route("PATCH", "/api/fundraising/rows/{id}/comments/{comment_id}", grid.update_comment, "user", grid.COMMENT),
    route("DELETE", "/api/fundraising/rows/{id}/comments/{comment_id}", grid.delete_comment, "user"),
    route("GET", "/api/fundraising/mentions", grid.mentions, "user", query=PAGE),
    route("GET", "/api/fundraising/views", grid.list_views, "user"),
    route("POST", "/api/fundraising/views", grid.create_view, "user", grid.VIEW),
    route("PATCH", "/api/fundraising/views/{id}", grid.update_view, "user", grid.VIEW),
    route("DELETE", "/api/fundraising/views/{id}", grid.delete_view, "user"),
    route("POST", "/api/fundraising/collab/heartbeat", grid.heartbeat, "user", grid.HEARTBEAT),
    route("GET", "/api/fundraising/collab/state", grid.collab_state, "user"),
    route("POST", "/api/fundraising/formula/check", grid.check_formula, "user", grid.FORMULA_CHECK),
    route("GET", "/api/fundraising/lists/{name}", grid.list_members, "user"),
    route("GET", "/api/fundraising/automations", grid.list_automations, "admin"),
    route("POST", "/api/fundraising/automations", grid.create_automation, "admin", grid.AUTOMATION),
    route("PATCH", "/api/fundraising/automations/{id}", grid.update_automation, "admin", grid.AUTOMATION),
    route("GET", "/api/fundraising/automation-runs", grid.automation_runs, "admin", query=PAGE),
    route("POST", "/api/fundraising/log-communication", grid.log_communication, "user", grid.LOG_COMMUNICATION),
    route("GET", "/api/fundraising/export", grid.export_grid, "user", query=(
        Query("format", doc="json (default) or csv"), Query("view_id"))),
    route("POST", "/api/fundraising/import/preview", importer.preview_import, "user", "text/csv"),
    route("POST", "/api/fundraising/import/commit", importer.commit_import, "user", "application/json"),
    route("GET", "/api/fundraising/relational-summary", grid.relational_summary, "user"),
    route("GET", "/api/fundraising/activity", grid.activity, "admin", query=PAGE),
    # Backups
    route("GET", "/api/fundraising/backups", backups.list_backups, "admin", query=PAGE),
    route("POST", "/api/fundraising/backup", backups.take_backup, "admin", backups.TAKE),
    route("POST", "/api/fundraising/backup-verify", backups.verify_backup, "admin", backups.BY_ID),
    route("POST", "/api/fundraising/restore-preview", backups.restore_preview, "admin", backups.BY_ID),
    route("POST", "/api/fundraising/restore", backups.restore_backup, "admin", backups.BY_ID, exclusive=True),
    route("GET", "/api/fundraising/backup-policy", backups.get_policy, "admin"),
    route("PATCH", "/api/fundraising/backup-policy", backups.update_policy, "admin", backups.POLICY),
    route("GET", "/api/admin/export", backups.full_export, "admin"),
    # Administration
    route("POST", "/api/admin/reset-all-data", reset.reset_all_data, "admin", reset.RESET),
    route("GET", "/api/audit-log", admin.audit_log, "admin", query=PAGE + (
        Query("entity_type"), Query("entity_id"), Query("actor_id", doc="user id"), Query("action"),
        Query("since", doc="ISO-8601, inclusive"), Query("until", doc="ISO-8601, exclusive"),
    )),
    route("GET", "/api/security/status", admin.security_status, "admin"),
]
