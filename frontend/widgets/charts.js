// Small inline SVG charts built with createElementNS (no chart library, nothing the CSP refuses).
// Each chart is role="img" with an aria-label that reads out every bar; pages put the same figures
// in a table beside it.
const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== null && value !== undefined) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** Horizontal bars: items [{label, value, text}] (text is the shown value), one row each. */
export function barChart(items, { label, className = "" } = {}) {
  const row = 26, labelWidth = 110, valueWidth = 140, barWidth = 300;
  const width = labelWidth + barWidth + valueWidth, height = Math.max(row, items.length * row);
  const max = Math.max(0, ...items.map((i) => Number(i.value) || 0));
  const svg = s("svg", { class: `chart bar-chart ${className}`.trim(), viewBox: `0 0 ${width} ${height}`, width, role: "img",
    "aria-label": `${label}: ${items.map((i) => `${i.label} ${i.text}`).join("; ")}` });
  items.forEach((item, n) => {
    const y = n * row;
    const length = max ? Math.max((Number(item.value) || 0) / max * barWidth, item.value ? 2 : 0) : 0;
    svg.append(s("g", { class: "bar-row", "data-label": item.label },
      s("text", { class: "bar-label", x: labelWidth - 8, y: y + row / 2, "text-anchor": "end", "dominant-baseline": "middle" }, item.label),
      s("rect", { class: "bar", x: labelWidth, y: y + 5, width: length.toFixed(1), height: row - 10, rx: 3 }),
      s("text", { class: "bar-value", x: labelWidth + length + 6, y: y + row / 2, "dominant-baseline": "middle" }, item.text)));
  });
  return svg;
}

/** Vertical bars over time: items [{label, value, text}] in order, the label under each bar. */
export function columnChart(items, { label, className = "" } = {}) {
  const height = 180, bottom = 36, top = 18, slot = 44;
  const width = Math.max(slot, items.length * slot);
  const max = Math.max(0, ...items.map((i) => Number(i.value) || 0));
  const svg = s("svg", { class: `chart column-chart ${className}`.trim(), viewBox: `0 0 ${width} ${height}`, width, role: "img",
    "aria-label": `${label}: ${items.map((i) => `${i.label} ${i.text}`).join("; ")}` });
  const room = height - bottom - top;
  svg.append(s("line", { class: "axis", x1: 0, x2: width, y1: height - bottom, y2: height - bottom }));
  items.forEach((item, n) => {
    const x = n * slot;
    const tall = max ? (Number(item.value) || 0) / max * room : 0;
    svg.append(s("g", { class: "column", "data-label": item.label },
      s("rect", { class: "bar", x: x + 8, y: (height - bottom - tall).toFixed(1), width: slot - 16, height: tall.toFixed(1), rx: 2 }),
      s("text", { class: "bar-value", x: x + slot / 2, y: height - bottom - tall - 4, "text-anchor": "middle" }, item.text),
      s("text", { class: "bar-label", x: x + slot / 2, y: height - bottom + 16, "text-anchor": "middle" }, item.label)));
  });
  return svg;
}
