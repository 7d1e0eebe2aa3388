// The Spend section: tokens and cost over time by model, provider, key or group, from the store
// (GET /admin/usage for the totals, GET /admin/usage/series for the charts).

import { api, ApiError, query } from "./api.js";
import { stackedBars } from "./charts.js";
import { h, table } from "./dom.js";
import { count, usd } from "./format.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const RANGES = [
  { id: "hour", label: "Last hour", span: HOUR, bucket: "minute", size: MINUTE },
  { id: "day", label: "Last day", span: DAY, bucket: "hour", size: HOUR },
  { id: "month", label: "Last 30 days", span: 30 * DAY, bucket: "day", size: DAY },
];
const GROUPS = [["model", "Model"], ["provider", "Provider"], ["key", "Key"], ["group", "Group"]];
/** Groups drawn in their own colour; the rest are summed as "other". */
const TOP = 7;

/** Builds the section's controls in `controls`; draws into `body`. */
export function spendPanel({ controls, body }) {
  let range = RANGES[0];
  let groupBy = "model";
  let last = "";
  let refresh = () => Promise.resolve();
  const rangePicker = h(
    "fieldset",
    { class: "segmented" },
    h("legend", {}, "Time range"),
    RANGES.map((r) =>
      h(
        "label",
        {},
        h("input", {
          type: "radio",
          name: "spend-range",
          value: r.id,
          checked: r === range,
          onchange: () => {
            range = r;
            refresh().catch(() => {});
          },
        }),
        r.label,
      )
    ),
  );
  const groupPicker = h(
    "label",
    { class: "inline" },
    "Group by ",
    h(
      "select",
      {
        id: "spend-group",
        onchange: (event) => {
          groupBy = event.target.value;
          refresh().catch(() => {});
        },
      },
      GROUPS.map(([value, label]) => h("option", { value }, label)),
    ),
  );
  controls.replaceChildren(rangePicker, groupPicker);

  refresh = async () => {
    const to = Date.now();
    const from = to - range.span;
    const [usage, series] = await Promise.all([
      api(`admin/usage${query({ group_by: groupBy, from, to })}`),
      api(`admin/usage/series${query({ group_by: groupBy, from, to, bucket: range.bucket })}`)
        .catch((error) => {
          if (error instanceof ApiError && error.status === 404) return null;
          throw error;
        }),
    ]);
    const view = { range: range.id, groupBy, usage: usage.data, series: series?.data ?? null };
    const text = JSON.stringify(view);
    if (text === last) return;
    last = text;
    body.replaceChildren(...draw(view, { from, to, range }));
  };
  return {
    refresh: () => refresh(),
    clear() {
      last = "";
      body.replaceChildren();
    },
  };
}

function draw(view, { from, to, range }) {
  const name = (value) => value === null ? "(none)" : String(value);
  const total = (key) => view.usage.reduce((sum, row) => sum + row[key], 0);
  const label = GROUPS.find(([value]) => value === view.groupBy)[1];
  return [
    h(
      "dl",
      { class: "tiles" },
      tile("Cost", usd(total("cost_usd")), "cost"),
      tile("Requests", count(total("requests")), "requests"),
      tile("Input tokens", count(total("input_tokens")), "input_tokens"),
      tile("Output tokens", count(total("output_tokens")), "output_tokens"),
    ),
    view.series === null
      ? h("p", { class: "empty" }, "This gateway does not serve usage series: no chart.")
      : charts(view, { from, to, range, name }),
    table(
      `Spend by ${label.toLowerCase()}, ${range.label.toLowerCase()}`,
      [[label], ["Requests", "num"], ["Input tokens", "num"], ["Output tokens", "num"], [
        "Cost",
        "num",
      ]],
      view.usage.map((row) => ({
        attrs: { "data-group": name(row[view.groupBy]) },
        cells: [
          name(row[view.groupBy]),
          { value: count(row.requests), class: "num" },
          { value: count(row.input_tokens), class: "num" },
          { value: count(row.output_tokens), class: "num" },
          { value: usd(row.cost_usd), class: "num cost" },
        ],
      })),
      `No usage recorded in the ${range.label.toLowerCase()}.`,
    ),
  ];
}

function tile(label, value, key) {
  return h(
    "div",
    { class: "tile", "data-total": key },
    h("dt", {}, label),
    h("dd", {}, h("span", { class: "value" }, value)),
  );
}

/** Cost and tokens per bucket, stacked by the top groups. */
function charts(view, { from, to, range, name }) {
  // Ranked by cost, then tokens (models without a price still rank).
  const sums = new Map();
  for (const row of view.series) {
    const key = name(row[view.groupBy]);
    const sum = sums.get(key) ?? { cost: 0, tokens: 0 };
    sum.cost += row.cost_usd;
    sum.tokens += row.input_tokens + row.output_tokens;
    sums.set(key, sum);
  }
  const ranked = [...sums.entries()]
    .sort((a, b) => b[1].cost - a[1].cost || b[1].tokens - a[1].tokens)
    .map(([key]) => key);
  const shown = new Set(ranked.slice(0, TOP));
  const series = ranked.slice(0, TOP).map((key) => ({ key, label: key }));
  if (ranked.length > TOP) series.push({ key: "\u0000other", label: "other" });
  const buckets = new Map();
  const start = Math.floor(from / range.size) * range.size;
  for (let t = start; t < to; t += range.size) {
    buckets.set(t, { t, cost: {}, tokens: {} });
  }
  for (const row of view.series) {
    const t = Math.floor(row.t / range.size) * range.size;
    const bucket = buckets.get(t) ?? { t, cost: {}, tokens: {} };
    buckets.set(t, bucket);
    const key = shown.has(name(row[view.groupBy])) ? name(row[view.groupBy]) : "\u0000other";
    bucket.cost[key] = (bucket.cost[key] ?? 0) + row.cost_usd;
    bucket.tokens[key] = (bucket.tokens[key] ?? 0) + row.input_tokens + row.output_tokens;
  }
  const ordered = [...buckets.values()].sort((a, b) => a.t - b.t);
  return h(
    "div",
    { class: "pair" },
    h(
      "div",
      {},
      h("h3", {}, "Cost"),
      stackedBars(ordered.map((b) => ({ t: b.t, values: b.cost })), series, {
        label: "Cost",
        format: usd,
      }),
    ),
    h(
      "div",
      {},
      h("h3", {}, "Tokens"),
      stackedBars(ordered.map((b) => ({ t: b.t, values: b.tokens })), series, {
        label: "Tokens, input and output",
        format: count,
      }),
    ),
  );
}
