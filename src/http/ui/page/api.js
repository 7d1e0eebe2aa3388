// Calls to the admin API with the admin key the user signed in with, kept in this tab only.

const STORAGE_KEY = "llm-gateway.admin-key";

/** An admin API answer other than 2xx: its status and the error's code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }

  /** The key was missing, wrong or not an admin's: sign in again. */
  get signedOut() {
    return this.status === 401 || this.status === 403;
  }
}

/** The admin key of this tab, or null. */
export function adminKey() {
  return sessionStorage.getItem(STORAGE_KEY);
}

/** Keeps `key` for this tab (null forgets it). */
export function setAdminKey(key) {
  if (key === null) sessionStorage.removeItem(STORAGE_KEY);
  else sessionStorage.setItem(STORAGE_KEY, key);
}

/** A JSON call to `path` (relative to the page: "admin/keys"); throws `ApiError`. */
export async function api(path, { method = "GET", body } = {}) {
  const headers = { accept: "application/json" };
  const key = adminKey();
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "unreachable", "the gateway did not answer");
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const error = json?.error ?? {};
    throw new ApiError(res.status, error.code ?? null, error.message ?? `HTTP ${res.status}`);
  }
  return json;
}

/** A query string from the entries whose value is not empty. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) search.set(name, String(value));
  }
  const text = search.toString();
  return text === "" ? "" : `?${text}`;
}
