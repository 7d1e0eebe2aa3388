// The Keys section: the store's virtual keys with their spend against their budget (never a
// secret), a form that creates one (its secret shown once) and a button that revokes one.

import { api, ApiError, query } from "./api.js";
import { h, table } from "./dom.js";
import { iso, time, usd } from "./format.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The start of a budget's period, as the gateway counts it (whole hours; month: UTC). */
function periodStart(period, now) {
  const hour = (ms) => Math.floor(ms / HOUR) * HOUR;
  switch (period) {
    case "1d":
      return hour(now - DAY);
    case "7d":
      return hour(now - 7 * DAY);
    case "30d":
      return hour(now - 30 * DAY);
    default: {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
  }
}

/**
 * Draws the key list into `body`, and the creation form into `form` when `writable` (an admin
 * key signed in); `onAuthError` gets an `ApiError` that means the key is no longer accepted.
 */
export function keysPanel({ body, form, secret, writable, onAuthError }) {
  let last = "";
  const refresh = async () => {
    const keys = (await api("admin/keys")).data;
    const now = Date.now();
    const periods = [...new Set(keys.filter((k) => k.budget !== null).map((k) => k.budget.period))];
    const spent = new Map();
    await Promise.all(periods.map(async (period) => {
      const from = periodStart(period, now);
      const rows = (await api(`admin/usage${query({ group_by: "key", from, to: now + 1 })}`)).data;
      spent.set(period, new Map(rows.map((r) => [r.key, r.cost_usd])));
    }));
    const view = keys.map((k) => ({
      ...k,
      spent: k.budget === null ? null : spent.get(k.budget.period)?.get(k.name) ?? 0,
    }));
    const text = JSON.stringify(view);
    if (text === last) return;
    last = text;
    body.replaceChildren(draw(view, { writable, revoke }));
  };

  async function revoke(key) {
    if (!confirm(`Revoke the key "${key.name}"? Requests with it will be refused from now on.`)) {
      return;
    }
    try {
      await api(`admin/keys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
    } catch (error) {
      if (error instanceof ApiError && error.signedOut) return onAuthError(error);
      alert(`The key was not revoked: ${error.message}`);
      return;
    }
    await refresh().catch(() => {});
    body.querySelector(".scroll")?.focus();
  }

  setUpForm(form, secret, { writable, onAuthError, created: () => refresh().catch(() => {}) });
  return {
    refresh,
    clear() {
      last = "";
      body.replaceChildren();
      secret.hidden = true;
      secret.replaceChildren();
    },
  };
}

function draw(keys, { writable, revoke }) {
  return table(
    "Virtual keys",
    [
      ["Name"],
      ["Status"],
      ["Groups"],
      ["Models"],
      ["Spent of budget"],
      ["Created"],
      ["Expires"],
      ...(writable ? [["Action"]] : []),
    ],
    keys.map((k) => ({
      attrs: { "data-key": k.name, "data-status": k.status },
      cells: [
        h("strong", {}, k.name),
        h("span", { class: `badge key-${k.status}` }, k.status),
        k.groups.length === 0 ? h("span", { class: "muted" }, "none") : k.groups.join(", "),
        k.models === null ? h("span", { class: "muted" }, "all") : k.models.join(", "),
        budgetCell(k),
        h("time", { datetime: k.created_at }, time(k.created_at)),
        k.expires_at === null
          ? h("span", { class: "muted" }, "never")
          : h("time", { datetime: iso(k.expires_at) }, time(k.expires_at)),
        ...(writable ? [revokeButton(k, revoke)] : []),
      ],
    })),
    "No virtual key yet.",
  );
}

function revokeButton(key, revoke) {
  if (key.status !== "active") return "";
  return h("button", {
    type: "button",
    class: "danger",
    "aria-label": `Revoke ${key.name}`,
    onclick: () => revoke(key),
  }, "Revoke");
}

function budgetCell(key) {
  if (key.budget === null) return h("span", { class: "muted" }, "no budget");
  const { usd: limit, period } = key.budget;
  return h(
    "span",
    { class: "budget" },
    h("meter", {
      min: 0,
      max: limit,
      low: limit * 0.8,
      high: limit * 0.95,
      optimum: 0,
      value: Math.min(key.spent, limit),
      "aria-label": `${key.name} budget used`,
    }),
    ` ${usd(key.spent)} of ${usd(limit)} (${period === "month" ? "this month" : period})`,
  );
}

/** The creation form: its fields are in the page; the new secret goes into `secret`. */
function setUpForm(form, secret, { writable, onAuthError, created }) {
  form.hidden = !writable;
  const error = form.querySelector(".form-error");
  form.onsubmit = async (event) => {
    event.preventDefault();
    error.textContent = "";
    const data = new FormData(form);
    const list = (name) =>
      String(data.get(name) ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
    const body = { name: String(data.get("name") ?? "").trim() };
    if (list("groups").length > 0) body.groups = list("groups");
    if (list("models").length > 0) body.models = list("models");
    const usdText = String(data.get("budget") ?? "").trim();
    if (usdText !== "") body.budget = { usd: Number(usdText), period: data.get("period") };
    let key;
    try {
      key = await api("admin/keys", { method: "POST", body });
    } catch (e) {
      if (e instanceof ApiError && e.signedOut) return onAuthError(e);
      error.textContent = `Not created: ${e.message}`;
      form.querySelector("[name=name]").focus();
      return;
    }
    form.reset();
    showSecret(secret, key);
    created();
  };
}

function showSecret(secret, key) {
  const code = h("code", { id: "new-key-secret" }, key.key);
  const done = h("button", {
    type: "button",
    onclick: () => {
      secret.hidden = true;
      secret.replaceChildren();
      document.getElementById("key-name")?.focus();
    },
  }, "Done");
  const copy = h("button", {
    type: "button",
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(key.key);
        copy.textContent = "Copied";
      } catch {
        getSelection()?.selectAllChildren(code);
        copy.textContent = "Selected: copy it with your keyboard";
      }
    },
  }, "Copy");
  secret.replaceChildren(
    h("h3", { id: "new-key-title", tabindex: "-1" }, `Key "${key.name}" created`),
    h("p", {}, "Copy its secret now: it is not shown again, and the gateway keeps only its hash."),
    h("p", { class: "secret" }, code),
    h("p", { class: "actions" }, copy, done),
  );
  secret.hidden = false;
  secret.querySelector("h3").focus();
}
