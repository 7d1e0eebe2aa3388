// Hand-drawn SVG charts: a sparkline and a stacked bar chart. Each is an image with a text
// summary for screen readers; the numbers it draws are also in the tables beside it.

import { h, svg } from "./dom.js";
import { time } from "./format.js";

const SPARK_W = 120;
const SPARK_H = 28;

/**
 * A sparkline of `values` (oldest first), with `over` (errors, say) drawn on the same scale.
 * `label` names what it shows, for its text alternative.
 */
export function sparkline(values, { label, over = null, format = String }) {
  const all = over === null ? values : values.concat(over);
  const max = Math.max(1, ...all.filter((v) => typeof v === "number"));
  const last = values.at(-1) ?? 0;
  const peak = Math.max(0, ...values.filter((v) => typeof v === "number"));
  return svg(
    "svg",
    {
      class: "spark",
      viewBox: `0 0 ${SPARK_W} ${SPARK_H}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `${label}: latest ${format(last)}, peak ${format(peak)}`,
      "data-values": values.join(","),
    },
    svg("path", { class: "spark-area", d: area(values, max) }),
    svg("polyline", { class: "spark-line", points: points(values, max) }),
    over === null ? null : svg("polyline", { class: "spark-over", points: points(over, max) }),
  );
}

function points(values, max) {
  const step = values.length > 1 ? SPARK_W / (values.length - 1) : SPARK_W;
  return values.map((v, i) => {
    const y = SPARK_H - 1 - ((typeof v === "number" ? v : 0) / max) * (SPARK_H - 2);
    return `${(i * step).toFixed(1)},${y.toFixed(1)}`;
  }).join(" ");
}

function area(values, max) {
  if (values.length === 0) return "";
  const line = points(values.length === 1 ? [values[0], values[0]] : values, max);
  return `M0,${SPARK_H} L${line.replaceAll(" ", " L")} L${SPARK_W},${SPARK_H} Z`;
}

const CHART_W = 600;
const CHART_H = 150;

/**
 * Bars stacked by series, one bar per point. `points` are `{t, values: {key: number}}`;
 * `series` are `{key, label, cls?}` in stacking order (without `cls`, eight colours in turn).
 */
export function stackedBars(points, series, { label, format = String }) {
  const totals = points.map((p) => series.reduce((sum, s) => sum + (p.values[s.key] ?? 0), 0));
  const max = Math.max(0, ...totals);
  const scale = max > 0 ? max : 1;
  const slot = CHART_W / Math.max(points.length, 1);
  const width = Math.max(1, slot * 0.8);
  const bars = [];
  points.forEach((p, i) => {
    let y = CHART_H;
    series.forEach((s, k) => {
      const value = p.values[s.key] ?? 0;
      if (value <= 0) return;
      const height = (value / scale) * (CHART_H - 4);
      y -= height;
      bars.push(svg(
        "rect",
        {
          class: s.cls ?? `c${k % 8}`,
          x: (i * slot + (slot - width) / 2).toFixed(2),
          y: y.toFixed(2),
          width: width.toFixed(2),
          height: height.toFixed(2),
        },
        svg("title", {}, `${time(p.t)} · ${s.label}: ${format(value)}`),
      ));
    });
  });
  const total = totals.reduce((a, b) => a + b, 0);
  const summary = `${label}: ${format(total)} in all over ${points.length} intervals, ` +
    `at most ${format(max)} in one`;
  return h(
    "figure",
    { class: "chart" },
    h("div", { class: "chart-max", "aria-hidden": "true" }, format(max)),
    svg(
      "svg",
      {
        viewBox: `0 0 ${CHART_W} ${CHART_H}`,
        preserveAspectRatio: "none",
        role: "img",
        "aria-label": summary,
        "data-total": String(total),
      },
      svg("line", { class: "axis", x1: 0, y1: CHART_H - 0.5, x2: CHART_W, y2: CHART_H - 0.5 }),
      bars,
    ),
    h(
      "figcaption",
      {},
      h(
        "span",
        { class: "chart-span", "aria-hidden": "true" },
        h("span", {}, points.length > 0 ? time(points[0].t) : ""),
        h("span", {}, points.length > 0 ? time(points.at(-1).t) : ""),
      ),
      h(
        "ul",
        { class: "legend" },
        series.map((s, k) =>
          h("li", {}, h("span", { class: `swatch ${s.cls ?? `c${k % 8}`}` }), s.label)
        ),
      ),
    ),
  );
}
