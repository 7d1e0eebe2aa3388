/**
 * Reading the config: file -> YAML document -> `${VAR}` interpolation -> schema -> cross checks,
 * with every problem reported as `path: message (file:line)`. Also the embedded default used
 * when no config file exists.
 */

import { DEFAULT_PROVIDER_TYPES, PROVIDER_PRESETS } from "./presets.ts";
import { LineCounter, parseDocument, type YAMLError } from "yaml";
import { crossCheck } from "./checks.ts";
import { ConfigError, type ConfigIssue, type PathSegment, type PendingIssue } from "./errors.ts";
import { type Env, type Interpolated, interpolateEnv } from "./interpolate.ts";
import { locateIssue } from "./source_map.ts";
import type { GatewayConfig } from "./types.ts";
import { validateRaw } from "./validate.ts";

export { ConfigError } from "./errors.ts";
export type { ConfigIssue } from "./errors.ts";
export type { Env } from "./interpolate.ts";

/** Options for `parseConfig`. */
export interface ParseConfigOptions {
  /** Shown in error messages as `(filename:line)`. */
  filename: string;
  env: Env;
}

/** Parses and validates a YAML config document; rejects with `ConfigError` listing every problem. */
export async function parseConfig(
  text: string,
  options: ParseConfigOptions,
): Promise<GatewayConfig> {
  const { filename } = options;
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map(syntaxIssue), { filename });
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // Only alias bombs and similar pathological input get here.
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError([{ path: "", message: `invalid YAML: ${message}` }], { filename });
  }
  // An empty file, or one with only comments, is an empty mapping: all defaults.
  const { config, issues } = await check(interpolateEnv(raw ?? {}, options.env));
  if (issues.length > 0 || config === undefined) {
    const located = issues.map((issue) => locateIssue(issue, { doc, counter }));
    throw new ConfigError(sortByLine(located), { filename });
  }
  return config;
}

/** Reads and parses a config file; an unreadable file is a `ConfigError` too (cause attached). */
export async function loadConfig(
  path: string,
  env: Env = Deno.env.toObject(),
): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Deno.errors.NotFound
      ? "file not found"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ConfigError([{ path: "", message: `cannot read config file ${path}: ${reason}` }], {
      cause: error,
    });
  }
  return parseConfig(text, { filename: path, env });
}

/** Where the config comes from and whether the user asked for that file explicitly. */
export interface ConfigLocation {
  path: string;
  /** False only for the implicit ./config.yaml, whose absence means "use the embedded default". */
  explicit: boolean;
}

/** Picks the config path: `--config` flag, then `GATEWAY_CONFIG`, then `./config.yaml`. */
export function resolveConfigPath(args: { flag?: string; env: Env }): ConfigLocation {
  if (args.flag !== undefined && args.flag !== "") return { path: args.flag, explicit: true };
  const fromEnv = args.env["GATEWAY_CONFIG"];
  if (fromEnv !== undefined && fromEnv !== "") return { path: fromEnv, explicit: true };
  return { path: "./config.yaml", explicit: false };
}

/**
 * The config used when no file exists: localhost:8080 plus one provider per well-known API key
 * found in `env`. It goes through the same schema as a file, so the defaults cannot drift.
 */
export async function defaultConfig(
  env: Env,
): Promise<{ config: GatewayConfig; enabled: string[] }> {
  const providers = DEFAULT_PROVIDER_TYPES.flatMap((type) => {
    const preset = PROVIDER_PRESETS[type]!;
    const key = preset.key_env === undefined ? undefined : env[preset.key_env];
    if (key === undefined || key === "") return [];
    return [{ name: type, type, api_key: key }];
  });
  const { config, issues } = await validateRaw({
    server: { host: "127.0.0.1", port: 8080 },
    providers,
  });
  if (config === undefined) {
    throw new Error(`embedded default config is invalid: ${JSON.stringify(issues)}`);
  }
  return { config, enabled: providers.map((provider) => provider.name) };
}

function syntaxIssue(error: YAMLError): ConfigIssue {
  // yaml's pretty message carries " at line N, column M:" and a code frame; we print our own.
  const firstLine = error.message.split("\n")[0] ?? error.message;
  const message = error.code === "MULTIPLE_DOCS"
    ? "a config file must hold a single YAML document"
    : firstLine.replace(/ at line \d+, column \d+:?$/, "");
  return { path: "", line: error.linePos?.[0].line, message: `invalid YAML: ${message}` };
}

async function check(
  interpolated: Interpolated,
): Promise<{ config?: GatewayConfig; issues: PendingIssue[] }> {
  const disabled = disabledProviders(interpolated.value);
  const validated = await validateRaw(interpolated.value);
  // A bad or unset reference is the root cause of any schema complaint about the same value, so
  // report only the reference. Inside a disabled provider an unset one is fine unless the empty
  // value it leaves breaks validation.
  const rootCauses = [...interpolated.unset, ...interpolated.issues].map((cause) => cause.path);
  const schemaIssues = validated.issues.filter((issue) =>
    !rootCauses.some((path) => samePath(path, issue.path))
  );
  const envIssues = interpolated.unset
    .filter((unset) =>
      !insideDisabledProvider(unset.path, disabled) ||
      validated.issues.some((issue) => samePath(issue.path, unset.path))
    )
    .map((unset) => ({
      path: unset.path,
      message: `environment variable ${unset.variable} is not set`,
    }));
  const issues = [...interpolated.issues, ...envIssues, ...schemaIssues];
  if (validated.config !== undefined) issues.push(...crossCheck(validated.config));
  return { config: validated.config, issues };
}

function disabledProviders(value: unknown): Set<number> {
  const disabled = new Set<number>();
  if (typeof value !== "object" || value === null || !("providers" in value)) return disabled;
  const { providers } = value;
  if (!Array.isArray(providers)) return disabled;
  providers.forEach((provider: unknown, index) => {
    if (typeof provider !== "object" || provider === null || !("enabled" in provider)) return;
    if (provider.enabled === false || provider.enabled === "false") disabled.add(index);
  });
  return disabled;
}

function insideDisabledProvider(path: readonly PathSegment[], disabled: Set<number>): boolean {
  return path[0] === "providers" && typeof path[1] === "number" && disabled.has(path[1]);
}

function samePath(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  return a.length === b.length && a.every((segment, index) => segment === b[index]);
}

function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  // Stable sort keeps issues of one line in discovery order; unplaced ones go last.
  const lineOf = (issue: ConfigIssue) => issue.line ?? Number.MAX_SAFE_INTEGER;
  return issues.toSorted((a, b) => lineOf(a) - lineOf(b));
}
