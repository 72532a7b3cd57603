// `/reports`: the dashboard. Headline figures (GET /api/reports/dashboard), the pipeline by stage
// (/pipeline), the LP breakdown (/lp-breakdown), communications per week (/activity?weeks=12) and
// the latest communications. Charts are inline SVG (widgets/charts.js), each with its figures in a
// table beside it. Each section loads on its own: one failing says so and the others still show.
import { api } from "../api.js";
import { ROUTES } from "../config.js";
import { h } from "../dom.js";
import { barChart, columnChart } from "../widgets/charts.js";
import { STAGE_LABELS, money } from "./pipeline.js";

const WEEKS = 12;
const words = (v) => String(v ?? "").replace(/_/g, " ");
const capital = (v) => { const t = words(v); return t.charAt(0).toUpperCase() + t.slice(1); };
const number = (v) => Number(v || 0).toLocaleString();
const weekLabel = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });

export function mount(root) {
  let stopped = false;
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Reports");
  const part = (id, heading) => {
    const body = h("div.report-body", { "aria-busy": "true" }, h("p.muted", {}, "Loading…"));
    return { body, element: h("section.report", { id, "aria-labelledby": `${id}-title` }, h("h2", { id: `${id}-title` }, heading), body) };
  };
  const parts = {
    figures: part("report-figures", "Overview"),
    pipeline: part("report-pipeline", "Pipeline by stage"),
    lps: part("report-lps", "LP breakdown"),
    activity: part("report-activity", `Activity per week (last ${WEEKS} weeks)`),
    recent: part("report-recent", "Recent activity"),
  };
  root.replaceChildren(h("section.records-page.reports-page", { "aria-labelledby": "page-title" }, title,
    h("div.reports-grid", {}, ...Object.values(parts).map((p) => p.element))));
  title.focus({ preventScroll: true });

  const fill = async (key, url, draw) => {
    const { body } = parts[key];
    try {
      const data = await api("GET", url);
      if (stopped) return;
      body.replaceChildren(...[draw(data)].flat());
    } catch (error) {
      if (stopped) return;
      body.replaceChildren(h("p.error", { role: "alert" }, `Could not load this report: ${error.message}`));
    }
    body.removeAttribute("aria-busy");
  };
  fill("figures", "/api/reports/dashboard", figures);
  fill("pipeline", "/api/reports/pipeline", pipeline);
  fill("lps", "/api/reports/lp-breakdown", lps);
  fill("activity", `/api/reports/activity?weeks=${WEEKS}`, activity);
  fill("recent", "/api/communications?limit=10", recent);
  return () => { stopped = true; };
}

function figures(d) {
  const tile = (label, value, note) => h("div.figure", { dataset: { figure: label } },
    h("dt", {}, label), h("dd", {}, value), note ? h("dd.figure-note", {}, note) : null);
  const types = Object.entries(d.contacts.by_type || {}).map(([t, n]) => `${number(n)} ${words(t)}`).join(", ");
  return h("dl.figures", {},
    tile("Contacts", number(d.contacts.total), types || null),
    tile("Organizations", number(d.organizations)),
    tile("Open opportunities", number(d.pipeline.open_opportunities)),
    tile("Open pipeline, expected", money(d.pipeline.expected)),
    tile("Open pipeline, committed", money(d.pipeline.committed)),
    tile("LPs", number(d.lps.count)),
    tile("LP commitments", money(d.lps.committed), `${money(d.lps.funded)} funded`),
    tile("Communications, last 30 days", number(d.communications_last_30_days)));
}

function table(caption, heads, rows) {
  return h("div.list-scroll", {}, h("table.list.report-table", {}, h("caption", {}, caption),
    h("thead", {}, h("tr", {}, ...heads.map((head, i) => h(i ? "th.num" : "th", { scope: "col" }, head)))),
    h("tbody", {}, ...(rows.length ? rows.map((cells) => h("tr", {}, ...cells.map((c, i) => (i ? h("td.num", {}, c) : h("th", { scope: "row" }, c)))))
      : [h("tr.empty", {}, h("td", { colSpan: heads.length }, "Nothing yet."))]))));
}

function pipeline(stages) {
  const items = stages.map((s) => ({ label: STAGE_LABELS[s.stage] || capital(s.stage), value: s.expected,
    text: `${money(s.expected)} (${number(s.count)})` }));
  return [
    barChart(items, { label: "Expected amount by stage, with the number of opportunities", className: "pipeline-chart" }),
    table("Pipeline by stage", ["Stage", "Opportunities", "Expected", "Committed"],
      stages.map((s) => [STAGE_LABELS[s.stage] || capital(s.stage), number(s.count), money(s.expected), money(s.committed)])),
  ];
}

function lps(rows) {
  if (!rows.length) return h("p.muted", {}, "No LP profiles yet.");
  return [
    barChart(rows.map((r) => ({ label: capital(r.investor_type), value: r.committed, text: money(r.committed) })),
      { label: "LP commitments by investor type", className: "lp-chart" }),
    table("LPs by investor type", ["Investor type", "LPs", "Committed", "Funded"],
      rows.map((r) => [capital(r.investor_type), number(r.count), money(r.committed), money(r.funded)])),
  ];
}

function activity(d) {
  // Every week from the first (a Monday) to this one, so quiet weeks show as zero.
  const weeks = [];
  const today = new Date().toISOString().slice(0, 10);
  for (let day = new Date(`${d.since.slice(0, 10)}T00:00:00Z`); day.toISOString().slice(0, 10) <= today; day.setUTCDate(day.getUTCDate() + 7)) {
    weeks.push(day.toISOString().slice(0, 10));
  }
  const types = [...new Set(d.by_type.map((r) => r.type))].sort();
  const counts = new Map(weeks.map((w) => [w, {}]));
  for (const r of d.by_type) {
    if (!counts.has(r.week)) { counts.set(r.week, {}); weeks.push(r.week); }
    counts.get(r.week)[r.type] = r.count;
  }
  weeks.sort();
  const total = (w) => Object.values(counts.get(w)).reduce((a, b) => a + b, 0);
  const people = new Map();
  for (const r of d.by_user) people.set(r.username || "someone removed", (people.get(r.username || "someone removed") || 0) + r.count);
  return [
    columnChart(weeks.map((w) => ({ label: weekLabel(w), value: total(w), text: String(total(w)) })),
      { label: "Communications per week, weeks starting on Monday", className: "activity-chart" }),
    table("Communications per week", ["Week of", ...types.map(capital), "Total"],
      weeks.map((w) => [weekLabel(w), ...types.map((t) => number(counts.get(w)[t])), number(total(w))])),
    people.size ? table("Logged by", ["Who", "Communications"], [...people].sort((a, b) => b[1] - a[1]).map(([who, n]) => [who, number(n)])) : null,
  ].filter(Boolean);
}

function recent(items) {
  if (!items.length) return h("p.muted", {}, "No communications logged yet.");
  return h("ol.recent-activity", {}, ...items.map((c) => h("li", {},
    h("time", { datetime: c.communication_date }, new Date(c.communication_date).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" })),
    h("span.comm-type", {}, capital(c.type)),
    h("a", { href: `${ROUTES.contact}${encodeURIComponent(c.contact_id)}`, dataset: { link: "" } }, c.subject || `${capital(c.type)} with a contact`))));
}
