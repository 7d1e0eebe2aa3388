// The Recent requests section: the latest requests from GET /admin/requests, filtered by
// provider, model, status and caller.

import { api, query } from "./api.js";
import { h, table } from "./dom.js";
import { count, iso, ms, time, usd } from "./format.js";

const LIMIT = 50;

/** Reads the filters from `form` (in the page) and draws the requests into `body`. */
export function requestsPanel({ form, body }) {
  let last = "";
  let timer;
  // Typing filters the list after a pause; choosing from a list or pressing Enter at once.
  form.oninput = (event) => {
    clearTimeout(timer);
    timer = setTimeout(
      () => refresh().catch(() => {}),
      event.target.tagName === "SELECT" ? 0 : 300,
    );
  };
  form.onsubmit = (event) => {
    event.preventDefault();
    clearTimeout(timer);
    refresh().catch(() => {});
  };
  async function refresh() {
    const data = new FormData(form);
    const filters = {
      limit: LIMIT,
      provider: data.get("provider"),
      model: String(data.get("model") ?? "").trim(),
      status: String(data.get("status") ?? "").trim(),
      caller: String(data.get("caller") ?? "").trim(),
    };
    const rows = (await api(`admin/requests${query(filters)}`)).data;
    const text = JSON.stringify(rows);
    if (text === last) return;
    last = text;
    body.replaceChildren(draw(rows));
  }
  return {
    refresh: () => refresh(),
    clear() {
      last = "";
      body.replaceChildren();
    },
    /** Offers these provider names in the provider filter. */
    providers(names) {
      const select = form.elements.namedItem("provider");
      const have = [...select.options].slice(1).map((o) => o.value);
      if (have.join("\n") === names.join("\n")) return;
      const chosen = select.value;
      select.replaceChildren(
        h("option", { value: "" }, "All"),
        ...names.map((name) => h("option", { value: name, selected: name === chosen }, name)),
      );
    },
  };
}

/** Longest reason shown for a failed attempt; the whole text is in the cell's title. */
const MAX_REASON = 48;

/**
 * The attempts of a request that fell back (`"alpha/gpt-4o: HTTP 500"`, ...,
 * `"bravo/gpt-4o: served"`) as `alpha/gpt-4o (HTTP 500) → bravo/gpt-4o`.
 */
function fallbackPath(path) {
  if (path.length === 0) return h("span", { class: "muted" }, "none");
  const steps = path.map((step) => {
    const cut = step.indexOf(": ");
    if (cut < 0) return step;
    const [target, what] = [step.slice(0, cut), step.slice(cut + 2)];
    if (what === "served") return target;
    return `${target} (${what.length > MAX_REASON ? `${what.slice(0, MAX_REASON)}…` : what})`;
  });
  return h("span", { class: "path", title: path.join("\n") }, steps.join(" → "));
}

function draw(rows) {
  return table(
    "Recent requests",
    [
      ["Time"],
      ["Caller"],
      ["Model"],
      ["Provider"],
      ["Status", "num"],
      ["Latency", "num"],
      ["Tokens in / out", "num"],
      ["Cost", "num"],
      ["Fallback path"],
    ],
    rows.map((r) => ({
      attrs: { "data-request": r.request_id, "data-status": r.status },
      cells: [
        h("time", { datetime: iso(r.time), title: r.request_id }, time(r.time)),
        r.caller ?? h("span", { class: "muted" }, "anonymous"),
        h("span", {}, r.model ?? "–", r.stream ? h("span", { class: "muted" }, " stream") : null),
        r.provider === null ? "–" : h(
          "span",
          {},
          r.provider,
          r.served_model && r.served_model !== r.model
            ? h("span", { class: "muted" }, ` ${r.served_model}`)
            : null,
        ),
        {
          value: h("span", { class: `status s${String(r.status)[0]}xx` }, String(r.status)),
          class: "num",
        },
        { value: ms(r.latency_ms), class: "num" },
        { value: `${count(r.input_tokens)} / ${count(r.output_tokens)}`, class: "num" },
        { value: usd(r.cost_usd), class: "num" },
        fallbackPath(r.fallback_path),
      ],
    })),
    "No request matches.",
  );
}
