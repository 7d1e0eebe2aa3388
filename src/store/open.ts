/**
 * Opening the store the `storage:` config names: an SQLite file (the default) or a Postgres
 * server. The Postgres client is loaded only when a URL asks for it.
 */

import { dirname } from "node:path";
import type { StorageConfig } from "../config/types.ts";
import { openSqliteStore } from "./sqlite.ts";
import type { Store, StoreOptions } from "./store.ts";

/** The SQLite file used when `storage:` names none. */
export const DEFAULT_STORE_PATH = "./data/gateway.db";

/** An open store and where it is (a Postgres URL without its password), or why there is none. */
export type OpenedStore =
  | { store: Store; location: string }
  | { store: null; reason: string };

/** Options for `openStore`. */
export interface OpenStoreOptions extends StoreOptions {
  /** The file tried without a `storage:` block (default `./data/gateway.db`). */
  defaultPath?: string;
}

/**
 * Opens the configured store and brings its schema up to date.
 *
 * Without a `storage:` block (`config` null) it tries the default SQLite file; when that cannot
 * be written (no permission, a read-only disk) it resolves `{ store: null, reason }` for the log,
 * and the gateway runs without the store's features, as it does with `storage: false` (`"off"`).
 * A store the config names explicitly that cannot be opened rejects, with the config field in the
 * message.
 */
export async function openStore(
  config: StorageConfig | "off" | null,
  options: OpenStoreOptions = {},
): Promise<OpenedStore> {
  if (config === "off") return { store: null, reason: "storage: false" };
  const defaultPath = options.defaultPath ?? DEFAULT_STORE_PATH;
  if (config === null) {
    try {
      return { store: await openSqlite(defaultPath, options), location: defaultPath };
    } catch (error) {
      return { store: null, reason: `cannot use ${defaultPath}: ${messageOf(error)}` };
    }
  }
  if (config.url !== null) {
    const location = withoutPassword(config.url);
    try {
      const { openPostgresStore } = await import("./postgres.ts");
      return { store: await openPostgresStore(config.url, options), location };
    } catch (error) {
      throw new Error(
        `storage.url: cannot open the Postgres store at ${location}: ${messageOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  const path = config.path ?? defaultPath;
  try {
    return { store: await openSqlite(path, options), location: path };
  } catch (error) {
    const field = config.path === null ? "storage" : "storage.path";
    throw new Error(`${field}: cannot open the SQLite store at ${path}: ${messageOf(error)}`, {
      cause: error,
    });
  }
}

/** Opens an SQLite file, first checking the permissions so Deno never prompts for them. */
function openSqlite(path: string, options: StoreOptions): Promise<Store> {
  const folder = dirname(path);
  for (const name of ["read", "write"] as const) {
    if (Deno.permissions.querySync({ name, path: folder }).state !== "granted") {
      throw new Error(`no ${name} permission for ${folder} (run with --allow-${name}=${folder})`);
    }
  }
  return Promise.resolve(openSqliteStore(path, options));
}

/** The URL with its password masked, fit for a log line. */
export function withoutPassword(url: string): string {
  if (!URL.canParse(url)) return "(an invalid URL)";
  const parsed = new URL(url);
  if (parsed.password !== "") parsed.password = "***";
  return parsed.toString();
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
