// The dashboard: sign-in with an admin key, then each section polled while the tab is visible.

import { adminKey, api, ApiError, setAdminKey } from "./api.js";
import { byId } from "./dom.js";
import { time } from "./format.js";
import { keysPanel } from "./keys.js";
import { requestsPanel } from "./requests.js";
import { spendPanel } from "./spend.js";
import { statsPanel } from "./stats.js";

/** How often each section is read again, in milliseconds. */
const EVERY = { stats: 2_000, requests: 3_000, keys: 10_000, spend: 5_000 };

const live = byId("live");
const updated = byId("updated");
let session = null;

/** Says whether the page is live; unchanged text is not announced again. */
function say(state, at = null) {
  if (live.textContent !== state) live.textContent = state;
  updated.textContent = at === null ? "" : `· updated ${time(at)}`;
}

async function main() {
  byId("sign-in-form").addEventListener("submit", signIn);
  byId("sign-out").addEventListener("click", () => signOut(null));
  let about;
  try {
    const res = await fetch("ui/about.json", { cache: "no-store" });
    about = await res.json();
  } catch {
    return notice("The gateway did not answer. Reload the page to try again.");
  }
  if (about.admin === "off") {
    return notice(
      "The admin API is off, and the dashboard reads its data there: give the gateway an " +
        "admin key (auth.admin_keys in its configuration) and sign in with it.",
    );
  }
  if (about.admin === "open") return start({ writable: false });
  if (adminKey() === null) return showSignIn(null);
  const refused = await verify();
  if (refused === null) start({ writable: true });
  else showSignIn(refused);
}

/** Checks the stored admin key: null when accepted, else why not. */
async function verify() {
  try {
    await api("admin/keys");
    return null;
  } catch (error) {
    if (!(error instanceof ApiError) || !error.signedOut) return null;
    setAdminKey(null);
    return error.status === 403
      ? "That key is not an admin key: the dashboard takes a key from auth.admin_keys."
      : "That admin key was not accepted.";
  }
}

async function signIn(event) {
  event.preventDefault();
  const input = byId("admin-key");
  const error = byId("sign-in-error");
  const key = input.value.trim();
  if (key === "") {
    error.textContent = "Enter an admin key.";
    input.setAttribute("aria-invalid", "true");
    return input.focus();
  }
  setAdminKey(key);
  const refused = await verify();
  if (refused !== null) {
    error.textContent = refused;
    input.setAttribute("aria-invalid", "true");
    input.select();
    return input.focus();
  }
  input.value = "";
  start({ writable: true });
}

function showSignIn(message) {
  byId("dashboard").hidden = true;
  byId("nav").hidden = true;
  byId("sign-out").hidden = true;
  byId("sign-in").hidden = false;
  byId("sign-in-error").textContent = message ?? "";
  const input = byId("admin-key");
  if (message === null) input.removeAttribute("aria-invalid");
  else input.setAttribute("aria-invalid", "true");
  say("");
  input.focus();
}

function signOut(message) {
  session?.stop();
  session = null;
  setAdminKey(null);
  showSignIn(message);
}

function notice(text) {
  const el = byId("notice");
  el.textContent = text;
  el.hidden = false;
}

function start({ writable }) {
  byId("sign-in").hidden = true;
  byId("dashboard").hidden = false;
  byId("nav").hidden = false;
  byId("sign-out").hidden = !writable;
  byId("keys-note").hidden = writable;
  const onAuthError = () => signOut("The admin key is no longer accepted: sign in again.");
  const requests = requestsPanel({ form: byId("requests-filter"), body: byId("requests-body") });
  const panels = {
    stats: statsPanel({
      providers: byId("providers-body"),
      traffic: byId("traffic-body"),
      config: byId("config-body"),
      onProviders: (names) => requests.providers(names),
    }),
    requests,
    keys: keysPanel({
      body: byId("keys-body"),
      form: byId("key-form"),
      secret: byId("key-secret"),
      writable,
      onAuthError,
    }),
    spend: spendPanel({ controls: byId("spend-controls"), body: byId("spend-body") }),
  };
  session = poll(panels, onAuthError);
  byId("main").focus();
}

/** Runs each panel's refresh every `EVERY[name]` ms while the tab is visible. */
function poll(panels, onAuthError) {
  let stopped = false;
  const timers = new Map();
  const waiting = new Set();
  let failing = false;
  const run = async (name) => {
    timers.delete(name);
    if (stopped) return;
    if (document.hidden) {
      waiting.add(name);
      say("Paused while this tab is hidden");
      return;
    }
    const error = byId(`${name}-error`);
    try {
      await panels[name].refresh();
      error.textContent = "";
      failing = false;
      say("Live", Date.now());
    } catch (e) {
      if (stopped) return;
      if (e instanceof ApiError && e.signedOut) return onAuthError();
      if (e instanceof ApiError && e.status === 0) {
        failing = true;
        say("The gateway does not answer: retrying");
      } else {
        error.textContent = `Could not read this section: ${e.message}`;
      }
    }
    if (!stopped) timers.set(name, setTimeout(() => run(name), failing ? 5_000 : EVERY[name]));
  };
  const resume = () => {
    if (document.hidden) return;
    for (const name of waiting) run(name);
    waiting.clear();
  };
  document.addEventListener("visibilitychange", resume);
  for (const name of Object.keys(panels)) run(name);
  return {
    stop() {
      stopped = true;
      document.removeEventListener("visibilitychange", resume);
      for (const timer of timers.values()) clearTimeout(timer);
      for (const panel of Object.values(panels)) panel.clear();
    },
  };
}

main();
