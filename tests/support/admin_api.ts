// Calls to a test gateway's admin API, and polling for what the store shows.

/** The admin key the store tests configure (`auth.admin_keys`). */
export const ADMIN_KEY = "admin-key-0123456789abcdef";

/** YAML for `auth:` with one admin key, one config key (`app`) and `enabled` as given. */
export function authYaml(options: { enabled?: boolean } = {}): string {
  return `auth:
  enabled: ${options.enabled ?? true}
  keys:
    - name: "app"
      key: "${CONFIG_KEY}"
  admin_keys:
    - name: "ops"
      key: "${ADMIN_KEY}"
`;
}

/** The config key of `authYaml`. */
export const CONFIG_KEY = "config-key-0123456789abcdef";

/** A call to the admin API with the admin key (or `key`), a JSON body when given. */
export function admin(
  gw: { url: string },
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null } = {},
): Promise<Response> {
  const key = options.key === undefined ? ADMIN_KEY : options.key;
  const headers: Record<string, string> = {};
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  return fetch(gw.url + path, {
    method,
    headers,
    body: options.body === undefined
      ? undefined
      : typeof options.body === "string"
      ? options.body
      : JSON.stringify(options.body),
  });
}

/** A new virtual key: its id and its secret. */
export async function createKey(
  gw: { url: string },
  body: Record<string, unknown>,
): Promise<{ id: string; key: string; view: Record<string, unknown> }> {
  const res = await admin(gw, "POST", "/admin/keys", { body });
  const json = await res.json();
  if (res.status !== 201) {
    throw new Error(`POST /admin/keys: ${res.status} ${JSON.stringify(json)}`);
  }
  return { id: json.id, key: json.key, view: json };
}

/** One row of `GET /admin/usage`. */
export interface UsageRow {
  [groupBy: string]: unknown;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  cost_usd: number;
}

/** The rows of `GET /admin/usage?group_by=...`. */
export async function usageRows(
  gw: { url: string },
  groupBy: string,
  extra = "",
): Promise<UsageRow[]> {
  const res = await admin(gw, "GET", `/admin/usage?group_by=${groupBy}${extra}`);
  const json = await res.json();
  if (res.status !== 200) {
    throw new Error(`GET /admin/usage: ${res.status} ${JSON.stringify(json)}`);
  }
  return json.data;
}

/** Polls `check` until it returns a value other than undefined; rejects after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 5_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `${options.what ?? "condition"} not met within ${options.timeoutMs ?? 5_000} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** A chat request with a gateway key. */
export function chatWith(
  gw: { url: string },
  key: string,
  model: string,
  extra: Record<string, unknown> = {},
): Promise<Response> {
  return fetch(gw.url + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], ...extra }),
  });
}
