"""THE route table. Every endpoint of the API is one row here.

(method, path, handler, auth[, body, query]). Auth levels: `public`; `any`
(every signed-in principal, bots included); `user` (admins and members);
`admin`; `bot_or_admin`. The OpenAPI document and the auth-matrix test are
both generated from this list.
"""
from ..admin import handlers as admin
from ..admin import interactions
from ..admin import reset
from ..auth import handlers as auth
from ..backups import handlers as backups
from ..communications import handlers as communications
from ..contacts import handlers as contacts
from ..contacts import transfer
from ..digest import handlers as digest
from ..email import handlers as email
from ..feature_requests import handlers as feature_requests
from ..fundraising import handlers as grid
from ..importer import handlers as importer
from ..ingest import handlers as ingest
from ..lp_profiles import handlers as lp_profiles
from ..opportunities import handlers as opportunities
from ..organizations import handlers as organizations
from ..reports import handlers as reports
from ..system import handlers as system
from ..tags import handlers as tags
from ..shapes import DELETED, OBJECT, array, bare, created, media, one, page, redirect
from .routing import Query, route

PAGE = (Query("limit", "integer", "page size (1-1000, default 50)", min=1, max=1000), Query("offset", "integer", "rows to skip"))
LIST = PAGE + (Query("q", doc="search: the text is taken literally"),
               Query("sort", doc="fields, comma-separated; prefix - for descending"),
               Query("include_deleted", "flag", "1 shows deleted records (admins)"))
ITEM = (Query("include_deleted", "flag", "1 finds a deleted record (admins)"),)


def records_routes(path, module, noun, plural, kind, filters=(), replace=True, patch=True):
    """The seven routes of a soft-deletable resource: list, create, get, put, patch, delete, restore."""
    item, record = path + "/{id}", kind.schema
    rows = [
        route("GET", path, getattr(module, f"list_{plural}"), "user", query=LIST + tuple(Query(f) for f in filters),
              returns=page(record)),
        route("POST", path, getattr(module, f"create_{noun}"), "user", kind.body, returns=created(record)),
        route("GET", item, getattr(module, f"get_{noun}"), "user", query=ITEM, returns=one(record)),
    ]
    if replace:
        rows.append(route("PUT", item, getattr(module, f"replace_{noun}"), "user", kind.body, returns=one(record)))
    if patch:
        rows.append(route("PATCH", item, getattr(module, f"patch_{noun}"), "user", kind.body, returns=one(record)))
    rows += [
        route("DELETE", item, getattr(module, f"delete_{noun}"), "user", returns=one(DELETED)),
        route("POST", item + "/restore", getattr(module, f"restore_{noun}"), "user", returns=one(record)),
    ]
    return rows


ROUTES = [
    # System
    route("GET", "/api/health", system.health, "public", returns=one(system.STATUS)),
    route("GET", "/api/ready", system.ready, "public", returns=one(system.STATUS)),
    route("GET", "/api/openapi.json", system.openapi, "public", returns=bare(system.DOCUMENT)),
    route("GET", "/api/features", system.features, "user", returns=one(system.FEATURES)),
    # Sign-in and users
    route("GET", "/api/bootstrap/status", auth.bootstrap_status, "public", returns=one(auth.SETUP)),
    route("POST", "/api/auth/register", auth.register, "public", auth.REGISTER, returns=created(auth.SESSION)),
    route("POST", "/api/auth/login", auth.login, "public", auth.LOGIN, returns=one(auth.SESSION)),
    route("POST", "/api/auth/accept-invite", auth.accept_invite, "public", auth.ACCEPT_INVITE, returns=one(auth.SESSION)),
    route("GET", "/api/auth/me", auth.me, "any", returns=one(auth.USER)),
    route("PATCH", "/api/me", auth.update_me, "user", auth.UPDATE_ME, returns=one(auth.USER)),
    route("POST", "/api/auth/logout", auth.logout, "any", returns=one(auth.SIGNED_OUT)),
    route("POST", "/api/auth/change-password", auth.change_password, "user", auth.CHANGE_PASSWORD, returns=one(auth.SESSION)),
    route("GET", "/api/users", auth.list_users, "user", query=PAGE, returns=page(auth.USER)),
    route("POST", "/api/admin/users", auth.create_user, "admin", auth.CREATE_USER, returns=created(auth.NEW_USER)),
    route("PATCH", "/api/admin/users/{id}", auth.update_user, "admin", auth.UPDATE_USER, returns=one(auth.CHANGED_USER)),
    # Classic CRM
    *records_routes("/api/organizations", organizations, "organization", "organizations", organizations.ORGANIZATION,
                    organizations.ORGANIZATION.filters + ("tag",)),
    route("GET", "/api/organizations/{id}/contacts", contacts.organization_contacts, "user", query=LIST,
          returns=page(contacts.CONTACT.schema)),
    *records_routes("/api/contacts", contacts, "contact", "contacts", contacts.CONTACT, contacts.CONTACT.filters + ("tag",)),
    route("GET", "/api/contacts/{id}/communications", contacts.contact_communications, "user", query=LIST,
          returns=page(communications.COMMUNICATION.schema)),
    *records_routes("/api/opportunities", opportunities, "opportunity", "opportunities", opportunities.OPPORTUNITY,
                    opportunities.OPPORTUNITY.filters),
    route("PATCH", "/api/opportunities/{id}/stage", opportunities.set_stage, "user", opportunities.STAGE,
          returns=one(opportunities.OPPORTUNITY.schema)),
    *records_routes("/api/communications", communications, "communication", "communications",
                    communications.COMMUNICATION, communications.COMMUNICATION.filters + ("since", "until")),
    *records_routes("/api/lp-profiles", lp_profiles, "lp_profile", "lp_profiles", lp_profiles.LP_PROFILE,
                    lp_profiles.LP_PROFILE.filters),
    route("GET", "/api/tags", tags.list_tags, "user", query=LIST, returns=page(tags.TAG.schema)),
    route("POST", "/api/tags", tags.create_tag, "user", tags.TAG.body, returns=created(tags.TAG.schema)),
    route("DELETE", "/api/tags/{id}", tags.delete_tag, "user", returns=one(DELETED)),
    route("POST", "/api/tags/{id}/restore", tags.restore_tag, "user", returns=one(tags.TAG.schema)),
    *records_routes("/api/feature-requests", feature_requests, "feature_request", "feature_requests",
                    feature_requests.FEATURE_REQUEST, feature_requests.FEATURE_REQUEST.filters),
    route("POST", "/api/feature-requests/{id}/vote", feature_requests.vote_feature_request, "user",
          returns=one(feature_requests.FEATURE_REQUEST.schema)),
    route("GET", "/api/reports/dashboard", reports.dashboard, "user", returns=one(reports.DASHBOARD)),
    route("GET", "/api/reports/pipeline", reports.pipeline, "user", returns=one(reports.PIPELINE)),
    route("GET", "/api/reports/lp-breakdown", reports.lp_breakdown, "user", returns=one(reports.LP_BREAKDOWN)),
    route("GET", "/api/reports/activity", reports.activity, "user", query=(Query("weeks", "integer", "default 12", min=1, max=104),),
          returns=one(reports.ACTIVITY)),
    route("GET", "/api/export/contacts", transfer.export_contacts, "user", query=(Query("format", doc="csv (default) or json"),),
          returns=one(transfer.EXPORTED, also="text/csv")),
    route("POST", "/api/import/csv", transfer.import_contacts, "user", "text/csv",
          query=(Query("dry_run", "flag", "1 reports what would happen without writing"),), returns=one(transfer.REPORT)),
    # Fundraising grid
    route("GET", "/api/fundraising/state", grid.get_state, "user", query=(Query("rows", "flag", "0 leaves the rows out"),),
          returns=one(grid.STATE)),
    route("PUT", "/api/fundraising/state", grid.put_state, "user", "application/json", large_body=True, returns=one(grid.APPLIED)),
    route("POST", "/api/fundraising/ops", grid.post_ops, "user", "application/json", returns=one(grid.APPLIED)),
    route("GET", "/api/fundraising/changes", grid.changes, "user", query=(Query("since", "integer", "your last version"),),
          returns=one(grid.CHANGES)),
    route("GET", "/api/fundraising/events", grid.events, "user", query=(Query("since", "integer", "or send Last-Event-ID"),),
          returns=media("text/event-stream")),
    route("GET", "/api/fundraising/rows", grid.list_rows, "user", query=(
        Query("limit", "integer", "page size (1-1000, default 1000; shape=ids: 1-500000, default 500000)", min=1, max=500000),
        Query("offset", "integer", "rows to skip"),
        Query("view_id"), Query("ids", doc="these rows (ids separated by commas, at most 1000), in that order, whatever the view"), Query("q", doc="search every cell"), Query("archived", "flag", "1 lists archived rows"),
        Query("version", "integer", "cut the page from this version (the first page's); 409 once the server no longer holds it"),
        Query("shape", doc="full (default): rows as objects; compact: the page column by column, each column named once; "
              "ids: only the rows' ids (and the grouped column's values)", choices=grid.ROW_SHAPES)),
        returns=page(grid.ROW, (grid.COMPACT_COLUMN, grid.COMPACT_PAGE), (grid.ROW_ID, grid.IDS_PAGE))),
    route("GET", "/api/fundraising/rows/{id}", grid.get_row, "user", returns=one(grid.ROW_DETAIL)),
    route("GET", "/api/fundraising/contact-rows", grid.contact_rows, "user", query=(Query("contact_id", doc="a classic contact"),),
          returns=one(array(grid.CONTACT_ROW))),
    route("GET", "/api/fundraising/rows/{id}/history", grid.row_history, "user", query=PAGE, returns=page(grid.OP)),
    route("GET", "/api/fundraising/rows/{id}/comments", grid.list_comments, "user", returns=one(array(grid.COMMENT_SHOWN))),
    route("POST", "/api/fundraising/rows/{id}/comments", grid.create_comment, "user", grid.COMMENT,
          returns=created(grid.COMMENT_SHOWN)),
    route("PATCH", "/api/fundraising/rows/{id}/comments/{comment_id}", grid.update_comment, "user", grid.COMMENT,
          returns=one(grid.COMMENT_SHOWN)),
    route("DELETE", "/api/fundraising/rows/{id}/comments/{comment_id}", grid.delete_comment, "user", returns=one(DELETED)),
    route("GET", "/api/fundraising/mentions", grid.mentions, "user",
          query=PAGE + (Query("unread", "flag", "1 lists only the mentions not read yet"),), returns=page(grid.MENTION)),
    route("GET", "/api/fundraising/mentions/unread", grid.mentions_unread, "user", returns=one(grid.UNREAD)),
    route("POST", "/api/fundraising/mentions/read", grid.mentions_read, "user", grid.MENTIONS_READ, returns=one(grid.UNREAD)),
    route("GET", "/api/fundraising/views", grid.list_views, "user", returns=one(array(grid.VIEW_SHOWN))),
    route("POST", "/api/fundraising/views", grid.create_view, "user", grid.VIEW, returns=created(grid.VIEW_SHOWN)),
    route("PATCH", "/api/fundraising/views/{id}", grid.update_view, "user", grid.VIEW, returns=one(grid.VIEW_SHOWN)),
    route("DELETE", "/api/fundraising/views/{id}", grid.delete_view, "user", returns=one(DELETED)),
    route("POST", "/api/fundraising/collab/heartbeat", grid.heartbeat, "user", grid.HEARTBEAT, returns=one(grid.HEARTBEAT_ANSWER)),
    route("POST", "/api/fundraising/collab/leave", grid.leave, "user", grid.LEAVE, returns=one(grid.LEFT)),
    route("GET", "/api/fundraising/collab/state", grid.collab_state, "user", returns=one(array(grid.PRESENT))),
    route("POST", "/api/fundraising/formula/check", grid.check_formula, "user", grid.FORMULA_CHECK,
          returns=one(grid.FORMULA_CHECKED)),
    route("GET", "/api/fundraising/formula/vocabulary", grid.formula_vocabulary, "user", returns=one(grid.FORMULA_VOCABULARY)),
    route("GET", "/api/fundraising/lists/{name}", grid.list_members, "user", returns=one(grid.LIST_MEMBERS)),
    route("GET", "/api/fundraising/automations", grid.list_automations, "admin", returns=one(array(grid.RULE))),
    route("POST", "/api/fundraising/automations", grid.create_automation, "admin", grid.AUTOMATION, returns=created(grid.RULE)),
    route("PATCH", "/api/fundraising/automations/{id}", grid.update_automation, "admin", grid.AUTOMATION, returns=one(grid.RULE)),
    route("GET", "/api/fundraising/automation-runs", grid.automation_runs, "admin", query=PAGE, returns=page(grid.RUN)),
    route("POST", "/api/fundraising/log-communication", grid.log_communication, "user", grid.LOG_COMMUNICATION,
          returns=created(OBJECT)),
    route("GET", "/api/fundraising/export", grid.export_grid, "user", query=(
        Query("format", doc="json (default) or csv"), Query("view_id")), returns=one(grid.EXPORTED, also="text/csv")),
    route("POST", "/api/fundraising/import/preview", importer.preview_import, "user", "text/csv", large_body=True,
          returns=one(importer.PREVIEW)),
    route("POST", "/api/fundraising/import/commit", importer.commit_import, "user", "application/json", large_body=True,
          returns=created(importer.COMMITTED)),
    route("GET", "/api/fundraising/relational-summary", grid.relational_summary, "user", returns=one(grid.SUMMARY)),
    route("GET", "/api/fundraising/activity", grid.activity, "admin", query=PAGE, returns=page(grid.ACTIVITY)),
    # Backups
    route("GET", "/api/fundraising/backups", backups.list_backups, "admin", query=PAGE, returns=page(backups.BACKUP)),
    route("POST", "/api/fundraising/backup", backups.take_backup, "admin", backups.TAKE, returns=created(backups.BACKUP)),
    route("POST", "/api/fundraising/backup-verify", backups.verify_backup, "admin", backups.VERIFY, returns=one(backups.VERIFIED)),
    route("POST", "/api/fundraising/restore-preview", backups.restore_preview, "admin", backups.BY_ID, returns=one(backups.PREVIEW)),
    route("POST", "/api/fundraising/restore", backups.restore_backup, "admin", backups.BY_ID, exclusive=True,
          returns=one(backups.RESTORED)),
    route("GET", "/api/fundraising/backup-policy", backups.get_policy, "admin", returns=one(backups.POLICY_SHOWN)),
    route("PATCH", "/api/fundraising/backup-policy", backups.update_policy, "admin", backups.POLICY,
          returns=one(backups.POLICY_SHOWN)),
    route("GET", "/api/admin/export", backups.full_export, "admin", returns=bare(backups.EXPORT)),
    # Gmail capture (503 while CRM_GMAIL_INTEGRATION_ENABLED is off)
    route("GET", "/api/email/status", email.status, "user", returns=one(email.STATUS)),
    route("GET", "/api/email/accounts", email.list_accounts, "user", returns=one(array(email.ACCOUNT))),
    route("POST", "/api/email/accounts/enroll-all", email.enroll_all, "admin", returns=one(email.ENROLLED)),
    route("POST", "/api/email/accounts/enroll", email.enroll, "admin", email.ENROLL, returns=created(email.ACCOUNT)),
    route("POST", "/api/email/sync/run-now", email.run_now, "admin", email.RUN_NOW, returns=one(email.STARTED, status=202)),
    route("POST", "/api/email/rematch", email.rematch, "admin", returns=one(email.REMATCHED)),
    route("GET", "/api/email/threads", email.list_threads, "user", query=PAGE + (
        Query("investor_id", doc="a grid investor"), Query("contact_id", doc="a classic contact")),
          returns=page(email.THREAD)),
    route("GET", "/api/email/threads/{id}", email.get_thread, "user", returns=one(email.THREAD_DETAIL)),
    route("GET", "/api/email/blocklist", email.list_blocklist, "user", query=PAGE, returns=page(email.BLOCK_ENTRY)),
    route("POST", "/api/email/blocklist", email.add_block, "user", email.BLOCK, returns=created(email.BLOCK_ENTRY)),
    route("DELETE", "/api/email/blocklist/{id}", email.remove_block, "user", returns=one(email.REMOVED)),
    route("GET", "/api/email/oauth/start", email.oauth_start, "user", returns=one(email.CONSENT)),
    route("GET", "/api/email/oauth/callback", email.oauth_callback, "public", query=(
        Query("state"), Query("code"), Query("error")), returns=redirect()),
    # the activity panel (admin)
    route("GET", "/api/email/activity", email.activity, "admin", query=PAGE + (
        Query("investor_id", doc="a grid investor"), Query("account_id", doc="a mailbox that holds it"),
        Query("direction", doc="inbound, or outbound (from one of our mailboxes)"),
        Query("q", doc="words of the subject, snippet or sender (prefixes)"),
        Query("since", doc="ISO-8601, inclusive"), Query("until", doc="ISO-8601, exclusive"),
    ), returns=page(email.ACTIVITY)),
    route("GET", "/api/email/activity/investors", email.activity_investors, "admin",
          returns=one(array(email.ACTIVITY_INVESTOR))),
    route("GET", "/api/email/detail/{id}", email.activity_detail, "admin", returns=one(email.ACTIVITY_DETAIL)),
    # proposed notes, and the Matrix review bridge (bot_or_admin)
    route("GET", "/api/email/proposals", email.list_proposals, "admin", query=PAGE + (
        Query("status", doc="proposed (default), approved, rejected or all"), Query("investor_id", doc="a grid investor")),
        returns=page(email.PROPOSAL)),
    route("POST", "/api/email/proposals", email.create_proposal, "bot_or_admin", email.PROPOSE, returns=created(email.PROPOSAL)),
    route("POST", "/api/email/proposals/{id}/decide", email.decide_proposal, "admin", email.DECIDE, returns=one(email.DECIDED)),
    route("GET", "/api/intake/email-proposals", email.intake_work, "bot_or_admin", query=(
        Query("limit", "integer", "items per list (1-1000, default 100)", min=1, max=1000),), returns=one(email.WORK_LISTS)),
    route("POST", "/api/intake/email-proposals/{id}/posted", email.intake_posted, "bot_or_admin", email.POSTED,
          returns=one(email.PROPOSAL)),
    route("POST", "/api/intake/email-proposals/{id}/decide", email.intake_decide, "bot_or_admin", email.INTAKE_DECIDE,
          returns=one(email.DECIDED)),
    route("POST", "/api/intake/email-proposals/{id}/closed", email.intake_closed, "bot_or_admin",
          returns=one(email.PROPOSAL)),
    # in-thread drafts
    route("POST", "/api/email/drafts", email.create_draft, "user", email.DRAFT_BODY, returns=created(email.DRAFT)),
    route("GET", "/api/email/drafts", email.list_drafts, "user", query=PAGE + (
        Query("all", "flag", "1: everyone's drafts (admins)"),), returns=page(email.DRAFT)),
    # Retrieval over notes, communications and matched email (docs/RETRIEVAL.md)
    route("GET", "/api/search", ingest.search, "any", query=(
        Query("q", doc="the words to search for (required)"),
        Query("mode", doc="dense, sparse or hybrid (default hybrid: RRF of both)"),
        Query("entity", doc="a canonical entity id: only chunks about it"),
        Query("type", doc="chunk types, comma-separated: communication, email, grid_note, contact_note, lp_note,"
                          " organization_description, opportunity_description, opportunity_next_step"),
        Query("since", doc="only events at or after this date (YYYY-MM-DD) or ISO-8601 date-time"),
        Query("limit", "integer", "hits (1-100, default 10)", min=1, max=100)), returns=one(ingest.RESULTS)),
    route("POST", "/api/admin/ingest/run", ingest.run_ingest, "admin", ingest.RUN, returns=one(ingest.STARTED, status=202)),
    route("GET", "/api/admin/ingest/status", ingest.ingest_status, "admin", returns=one(ingest.STATUS)),
    # Canonical entities: who is who across the grid and the classic CRM (docs/RETRIEVAL.md, "Entities")
    route("GET", "/api/entities", ingest.list_entities, "user", query=(
        Query("q", doc="a name, email address, domain or entity id"),
        Query("kind", doc="person or organization"),
        Query("limit", "integer", "entities (1-100, default 10)", min=1, max=100),
        Query("offset", "integer", "entities to skip")), returns=page(ingest.ENTITY_BRIEF)),
    route("GET", "/api/entities/{id}", ingest.get_entity, "user", returns=one(ingest.DOSSIER)),
    route("POST", "/api/admin/entities/resolve", ingest.run_resolve, "admin", returns=one(ingest.RESOLVED)),
    route("POST", "/api/admin/entities/{id}/merge", ingest.merge_entity, "admin", ingest.MERGE, returns=one(ingest.MERGED)),
    route("POST", "/api/admin/entities/{id}/split", ingest.split_entity, "admin", ingest.SPLIT,
          returns=one(ingest.SPLITTED)),
    # The evening digest (admins; the only routes that send mail, and only to active admins)
    route("GET", "/api/admin/digest/policy", digest.get_policy, "admin", returns=one(digest.POLICY_SHOWN)),
    route("PATCH", "/api/admin/digest/policy", digest.update_policy, "admin", digest.POLICY,
          returns=one(digest.POLICY_SHOWN)),
    route("GET", "/api/admin/digest/status", digest.status, "admin", returns=one(digest.STATUS)),
    route("GET", "/api/admin/digest/preview", digest.preview, "admin", returns=one(digest.PREVIEW)),
    route("POST", "/api/admin/digest/send-now", digest.send_now, "admin", returns=one(digest.SENT)),
    route("POST", "/api/admin/digest/test-email", digest.test_email, "admin", digest.TEST_EMAIL, returns=one(digest.TESTED)),
    # Administration
    route("POST", "/api/admin/relationships/refresh", ingest.refresh_relationships, "admin",
          returns=one(ingest.REFRESHED)),
    route("POST", "/api/admin/reset-all-data", reset.reset_all_data, "admin", reset.RESET, returns=one(reset.DONE)),
    route("GET", "/api/audit-log", admin.audit_log, "admin", query=PAGE + (
        Query("entity_type"), Query("entity_id"), Query("actor_id", doc="user id"), Query("action"),
        Query("since", doc="ISO-8601, inclusive"), Query("until", doc="ISO-8601, exclusive"),
    ), returns=page(admin.AUDIT_ENTRY)),
    # The interaction log (docs/RETRIEVAL.md, "Interaction log"): admins read it; bots (agents) append
    route("GET", "/api/interactions", interactions.list_interactions, "admin", query=PAGE + (
        Query("entity", doc="a canonical entity: entries touching it or any record linked to it"),
        Query("ref_type", doc="with ref_id: entries touching one record (e.g. contacts)"), Query("ref_id"),
        Query("actor", doc="user id"), Query("actor_kind", doc="human, agent, bot or system"), Query("action"),
        Query("since", doc="ISO-8601, inclusive"), Query("until", doc="ISO-8601, exclusive"),
    ), returns=page(interactions.INTERACTION)),
    route("POST", "/api/interactions", interactions.log_interaction, "bot_or_admin", interactions.LOG,
          returns=created(interactions.INTERACTION)),
    route("GET", "/api/security/status", admin.security_status, "admin", returns=one(admin.SECURITY)),
]
