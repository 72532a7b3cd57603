// Feature requests: `/feature-requests`. The team's wish list for the CRM: a searchable, sortable,
// paginated list (most voted first), a form to submit one, a Vote button on each; admins change the status.
// The search, sort, page and status filter live in the URL query.
import { api } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "../widgets/form.js";
import { listView } from "../widgets/listview.js";
import { busy, statusLine, when } from "../widgets/settingskit.js";

const STATUSES = [["open", "Open"], ["planned", "Planned"], ["in_progress", "In progress"], ["done", "Done"], ["declined", "Declined"]];
const label = (status) => (STATUSES.find(([v]) => v === status) || [status, status])[1];

export function mount(root, ctx) {
  const isAdmin = ctx.me?.role === "admin";
  const said = statusLine();
  const initial = new URLSearchParams(location.search).get("status") || "";
  const filter = h("select", { id: "fr-status-filter" }, h("option", { value: "" }, "Any status"),
    ...STATUSES.map(([v, l]) => h("option", { value: v }, l)));
  filter.value = initial;

  async function act(button, working, run, done) {
    said.set("");
    try {
      await busy(button, working, run);
      said.set(done);
      list.reload();
    } catch (error) {
      said.set(error.message, "error");
      list.reload();
    }
  }
  // A new list for each status filter (a list's own params stay as they were made).
  const makeList = (status) => listView({
    url: API.featureRequests, label: "Feature requests", pageSize: 25, empty: "No feature requests yet: be the first.",
    params: status ? { status } : {},
    columns: [
      { key: "title", label: "Request", sort: "title", render: (r) => h("div.fr-title", {}, h("strong", {}, r.title),
        r.body ? h("p.fr-body", {}, r.body) : null) },
      { key: "status", label: "Status", sort: "status", render: (r) => {
        if (!isAdmin) return h("span.status-tag", { dataset: { status: r.status } }, label(r.status));
        const select = h("select", { "aria-label": `Status of ${r.title}` }, ...STATUSES.map(([v, l]) => h("option", { value: v }, l)));
        select.value = r.status;
        select.addEventListener("change", () => act(select, "", () => api("PATCH", `${API.featureRequests}/${encodeURIComponent(r.id)}`,
          { status: select.value }), `\u201c${r.title}\u201d is now ${label(select.value).toLowerCase()}.`));
        return select;
      } },
      { key: "votes", label: "Votes", sort: "votes", render: (r) => h("span.fr-votes", {}, String(r.votes)) },
      { key: "created_at", label: "Submitted", sort: "created_at", render: (r) => when(r.created_at) },
      { key: "vote", label: "", render: (r) => h("button.small", { type: "button", "aria-label": `Vote for ${r.title}`,
        onclick: (e) => act(e.currentTarget, "Voting…", () => api("POST", `${API.featureRequests}/${encodeURIComponent(r.id)}/vote`),
          `Voted for \u201c${r.title}\u201d.`) }, "▲ Vote") },
    ],
  });
  let list = makeList(initial);
  filter.addEventListener("change", () => {
    const shown = new URLSearchParams(location.search);
    if (filter.value) shown.set("status", filter.value); else shown.delete("status");
    shown.delete("offset");
    history.replaceState(null, "", `${location.pathname}${shown.size ? `?${shown}` : ""}`);
    list.stop();
    const old = list.element;
    list = makeList(filter.value);
    old.replaceWith(list.element);
  });

  const form = formFields([
    { name: "title", label: "What should the CRM do?", required: true },
    { name: "body", label: "Details (why, for whom)", type: "textarea", rows: 3 },
  ]);
  const submit = h("button.primary", { type: "submit" }, "Submit request");
  const f = h("form.settings-form.fr-form", { "aria-label": "Submit a feature request" }, form.element, h("div.page-actions", {}, submit));
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    form.clearErrors();
    said.set("");
    try {
      const made = await busy(submit, "Submitting…", () => api("POST", API.featureRequests, form.read()));
      f.reset();
      said.set(`Submitted \u201c${made.title}\u201d.`);
      list.reload();
    } catch (error) {
      form.showErrors(error);
    }
  });
  root.replaceChildren(h("section.records-page.feature-requests-page", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title" }, "Feature requests"),
    h("p.muted", {}, isAdmin ? "Vote for what matters; as an admin you set each request's status." : "Vote for what matters; admins set each request's status."),
    f, h("div.page-actions", {}, h("label", { for: "fr-status-filter" }, "Show"), filter, said), list.element));
  return () => list.stop();
}
