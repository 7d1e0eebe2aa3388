// The Providers, Traffic and Config sections, drawn from one GET /admin/stats.

import { api, query } from "./api.js";
import { sparkline, stackedBars } from "./charts.js";
import { h, table } from "./dom.js";
import { count, iso, ms, num, pct, time } from "./format.js";

/** Minutes of history the sections show. */
export const WINDOW_MINUTES = 15;

/** Reads the stats and redraws the three sections where their data changed. */
export function statsPanel({ providers, traffic, config, onProviders }) {
  const last = { providers: "", traffic: "", config: "" };
  const redraw = (name, data, el, draw) => {
    const text = JSON.stringify(data);
    if (text === last[name]) return;
    last[name] = text;
    el.replaceChildren(...draw(data));
  };
  return {
    async refresh() {
      const stats = await api(`admin/stats${query({ minutes: WINDOW_MINUTES })}`);
      onProviders(stats.providers.map((p) => p.name));
      redraw("providers", stats.providers, providers, drawProviders);
      redraw("traffic", stats.traffic, traffic, drawTraffic);
      redraw("config", stats.generation, config, drawConfig);
    },
    clear() {
      for (
        const [name, el] of [["providers", providers], ["traffic", traffic], ["config", config]]
      ) {
        last[name] = "";
        el.replaceChildren();
      }
    },
  };
}

function drawProviders(providers) {
  const rows = providers.map((p) => ({
    attrs: { "data-provider": p.name, "data-health": p.health },
    cells: [
      h("span", {}, h("strong", {}, p.name), h("span", { class: "muted" }, ` ${p.type}`)),
      h("span", { class: `badge ${p.health}` }, p.health),
      h("span", { class: `badge circuit-${p.circuit}` }, p.circuit.replace("_", "-")),
      { value: count(p.requests), class: "num requests" },
      { value: pct(p.error_rate), class: "num" },
      { value: ms(p.p50_ms), class: "num" },
      { value: ms(p.p95_ms), class: "num" },
      { value: ms(p.ttft_p50_ms), class: "num" },
      sparkline(p.series.map((s) => s.requests), {
        label: `${p.name} requests per interval, errors overlaid`,
        over: p.series.map((s) => s.errors),
        format: count,
      }),
      sparkline(p.series.map((s) => s.p50_ms), {
        label: `${p.name} median latency`,
        format: ms,
      }),
      p.last_error === null ? h("span", { class: "muted" }, "none") : h(
        "span",
        { class: "last-error" },
        h("time", { datetime: iso(p.last_error.at) }, time(p.last_error.at)),
        " ",
        p.last_error.message,
      ),
    ],
  }));
  return [table(
    "Providers",
    [
      ["Provider"],
      ["Health"],
      ["Circuit"],
      ["Requests", "num"],
      ["Error rate", "num"],
      ["p50", "num"],
      ["p95", "num"],
      ["TTFT p50", "num"],
      [`Requests, ${WINDOW_MINUTES} min`],
      ["Latency p50"],
      ["Last error"],
    ],
    rows,
    "No provider is configured.",
  )];
}

const TRAFFIC_COUNTERS = [
  ["fallbacks", "Fallbacks"],
  ["retries", "Retries"],
  ["rate_limited", "Rate-limited"],
  ["budget_refused", "Budget refusals"],
];

function drawTraffic(traffic) {
  const sum = (key) => traffic.series.reduce((total, s) => total + (s[key] ?? 0), 0);
  const tile = (label, value, key, spark) =>
    h(
      "div",
      { class: "tile", "data-counter": key },
      h("dt", {}, label),
      h("dd", {}, h("span", { class: "value" }, value), spark),
    );
  const points = traffic.series.map((s) => ({
    t: s.t,
    values: { "2xx": s["2xx"], "4xx": s["4xx"], "5xx": s["5xx"] },
  }));
  return [
    h(
      "dl",
      { class: "tiles" },
      tile("Requests/s", num(traffic.requests_per_second), "rps"),
      tile("Streams open", count(traffic.streams_open), "streams"),
      tile(`Requests, ${WINDOW_MINUTES} min`, count(sum("requests")), "requests"),
      TRAFFIC_COUNTERS.map(([key, label]) =>
        tile(
          label,
          count(sum(key)),
          key,
          sparkline(traffic.series.map((s) => s[key] ?? 0), { label, format: count }),
        )
      ),
    ),
    stackedBars(points, [
      { key: "2xx", label: "2xx", cls: "ok" },
      { key: "4xx", label: "4xx", cls: "warn" },
      { key: "5xx", label: "5xx", cls: "bad" },
    ], { label: "Requests by status class", format: count }),
    h("h3", {}, "Fallbacks"),
    table(
      "Fallbacks from provider to provider",
      [["From"], ["To"], ["Requests", "num"]],
      traffic.fallbacks.map((f) => ({
        attrs: { "data-fallback": `${f.from}>${f.to}` },
        cells: [f.from, f.to, { value: count(f.count), class: "num" }],
      })),
      `No fallback in the last ${WINDOW_MINUTES} minutes.`,
    ),
  ];
}

function drawConfig(generation) {
  const reload = generation.last_reload;
  return [h(
    "dl",
    { class: "facts" },
    h("dt", {}, "Generation"),
    h("dd", { "data-fact": "generation" }, String(generation.id)),
    h("dt", {}, "Loaded"),
    h("dd", {}, h("time", { datetime: iso(generation.loaded_at) }, time(generation.loaded_at))),
    h("dt", {}, "Last reload"),
    h(
      "dd",
      { "data-fact": "last-reload" },
      reload === null ? "none since the start" : [
        h("time", { datetime: iso(reload.at) }, time(reload.at)),
        " ",
        h(
          "span",
          { class: `badge ${reload.result === "success" ? "healthy" : "down"}` },
          reload.result === "success" ? "applied" : "rejected",
        ),
      ],
    ),
    reload?.error ? [h("dt", {}, "Reload error"), h("dd", {}, h("pre", {}, reload.error))] : null,
  )];
}
