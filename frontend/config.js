// Configuration and selectors in one place: paths, storage keys, timings, ids.
export const TABULATOR_JS = "/node_modules/tabulator-tables/dist/js/tabulator_esm.min.mjs";

export const STORAGE = {
  token: "crm.token",             // sessionStorage: a tab's sign-in ends with the tab
  pendingOps: "crm.pending-ops",  // sessionStorage: unsaved edits survive a 401 or reload
  afterSignIn: "crm.after-sign-in",
  sidebar: "crm.sidebar",         // localStorage: "open" or "rail"
  window: "crm.window",
  firstView: "crm.first-view",    // localStorage: the grid's first view's id, for the boot prefetch of its rows (app.js)           // localStorage: JSON over WINDOW's settings (the tests window a few thousand rows)
};

export const ROUTES = {
  grid: "/",
  login: "/login",
  setup: "/setup",
  acceptInvite: "/accept-invite",
  account: "/account",
  contact: "/contacts/",  // + a classic contact's id: the SPA's contact page (pages/contact.js)
  contacts: "/contacts",  // the contacts list (pages/contacts.js)
  organizations: "/organizations",
  organization: "/organizations/",  // + an organization's id (pages/organization.js)
  pipeline: "/pipeline",  // the board; ?view=list the list (pages/pipeline.js)
  opportunity: "/opportunities/",  // + an id, or "new": the opportunity editor (pages/pipeline.js)
  reports: "/reports",    // the dashboard (pages/reports.js)
  communications: "/communications",  // admins: the email-activity panel (pages/communications.js)
  emailCapture: "/email-capture",     // admins: proposed notes from email (pages/emailcapture.js)
  settings: "/settings",  // + "/<tab>": pages/settings.js
  featureRequests: "/feature-requests",
};

export const API = {
  bootstrap: "/api/bootstrap/status",
  register: "/api/auth/register",
  login: "/api/auth/login",
  me: "/api/auth/me",
  features: "/api/features",
  logout: "/api/auth/logout",
  changePassword: "/api/auth/change-password",
  acceptInvite: "/api/auth/accept-invite",
  state: "/api/fundraising/state",
  rows: "/api/fundraising/rows",
  ops: "/api/fundraising/ops",
  changes: "/api/fundraising/changes",
  events: "/api/fundraising/events",
  heartbeat: "/api/fundraising/collab/heartbeat",
  leave: "/api/fundraising/collab/leave",
  mentions: "/api/fundraising/mentions",
  mentionsUnread: "/api/fundraising/mentions/unread",
  mentionsRead: "/api/fundraising/mentions/read",
  contacts: "/api/contacts",
  // contacts and organizations
  organizations: "/api/organizations",
  communications: "/api/communications",
  opportunities: "/api/opportunities",
  lpProfiles: "/api/lp-profiles",
  contactRows: "/api/fundraising/contact-rows",
  exportContacts: "/api/export/contacts",
  importContacts: "/api/import/csv",
  views: "/api/fundraising/views",
  emailActivity: "/api/email/activity",
  emailActivityInvestors: "/api/email/activity/investors",
  emailAccounts: "/api/email/accounts",
  emailDetail: "/api/email/detail",      // + /{id}
  emailThreads: "/api/email/threads",    // + /{id}
  emailProposals: "/api/email/proposals",  // + /{id}/decide
  emailDrafts: "/api/email/drafts",
  // Settings and Feature requests (pages/settings.js, settings_admin.js, feature_requests.js)
  updateMe: "/api/me",
  users: "/api/users",
  adminUsers: "/api/admin/users",
  digestPolicy: "/api/admin/digest/policy",
  digestStatus: "/api/admin/digest/status",
  digestPreview: "/api/admin/digest/preview",
  digestSendNow: "/api/admin/digest/send-now",
  digestTest: "/api/admin/digest/test-email",
  backups: "/api/fundraising/backups",
  backupTake: "/api/fundraising/backup",
  backupVerify: "/api/fundraising/backup-verify",
  backupPolicy: "/api/fundraising/backup-policy",
  restorePreview: "/api/fundraising/restore-preview",
  restore: "/api/fundraising/restore",
  emailStatus: "/api/email/status",
  emailEnrollAll: "/api/email/accounts/enroll-all",
  emailRunNow: "/api/email/sync/run-now",
  blocklist: "/api/email/blocklist",
  securityStatus: "/api/security/status",
  ingestStatus: "/api/admin/ingest/status",
  ingestRun: "/api/admin/ingest/run",
  relationshipsRefresh: "/api/admin/relationships/refresh",
  auditLog: "/api/audit-log",
  resetAll: "/api/admin/reset-all-data",
  featureRequests: "/api/feature-requests",
};

export const TIMING = {
  saveDebounceMs: 250,     // edits within this window go in one ops request
  retryMs: [1000, 2000, 5000, 10000, 30000],
  eventsReconnectMs: 2000,  // the event stream's first retry; later ones follow retryMs
  eventsSilenceMs: 45000,  // a stream with nothing for three of the server's 15 s keep-alives is dead: reopen it
  heartbeatMs: 20000,
  firstPage: 100,          // rows drawn before the others are asked for: a screenful and more
  pageSize: 1000,          // the server's largest page of rows
  parallelPages: 3,        // pages of a listing asked for at once (over a 300 ms link, one at a time mostly waited)
  prefetchPagesMs: 3000,   // after the first page is up, the other pages' modules are fetched (app.js)
};

// The window of rows (widgets/rowwindow.js, docs/GRID.md): a view with more than `rows` rows is held as
// placeholders ({id}) whose cells are fetched, page by page, near the view and let go far from it.
// 20,000: at 10,000 rows the whole grid in the table is fast (first rows interactive ~1 s on the LAN,
// ~250 MB tab) and keeps everything synchronous; at 100,000 it was 8 s and 1.3 GiB (docs/PERFORMANCE.md).
export const WINDOW = {
  rows: 20000,
  pageRows: 250,     // a window page: rows fetched together by id (GET /rows?ids=)
  heldPages: 24,     // pages kept with their cells (6,000 rows) besides those a copy or paste is using
  margin: 250,       // rows above and below the drawn ones fetched ahead
  parallel: 3,       // window pages asked for at once
  selectRows: 20000, // a selected range up to this many rows is fetched ahead (a copy then does not wait)
  selectMs: 200,     // ... once the selection has not changed for this long
  askIds: 500,       // ids in one request when a range's rows are fetched (copy, paste, fill)
  maxIds: 500000,    // the server's largest page of ids (shape=ids)
  throttleMs: 80,    // while scrolling, the rows in view are looked at this often
};

/** WINDOW's settings, with those in localStorage (JSON, e.g. {"rows": 1000, "heldPages": 4}) over them:
 * the tests window a grid of a few thousand rows so. Read at each load of the rows. */
const WINDOW_DEFAULTS = { ...WINDOW };
export function windowSettings() {
  Object.assign(WINDOW, WINDOW_DEFAULTS);
  let override = {};
  try { override = JSON.parse(localStorage.getItem(STORAGE.window) || "{}") || {}; } catch { /* not JSON: none */ }
  for (const [key, value] of Object.entries(override)) if (key in WINDOW && Number.isInteger(value) && value >= 0) WINDOW[key] = value;
  return WINDOW;
}

// Element ids and data-* hooks the tests and the code share.
export const SEL = {
  app: "#app",
  status: "[data-save-status]",
  grid: "#grid",
  viewSelect: "#view-select",
  search: "#grid-search",
};
