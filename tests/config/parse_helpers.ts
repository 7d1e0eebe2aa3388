import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/load.ts";
import type { GatewayConfig } from "../../src/config/types.ts";

/** Parses a config given as source lines (so tests can count lines) as `config.yaml`. */
export function parseLines(
  lines: string[],
  env: Record<string, string> = {},
): Promise<GatewayConfig> {
  return parseConfig(lines.join("\n"), { filename: "config.yaml", env });
}

/** Parses config lines that must be rejected; returns the error message's lines. */
export async function rejectLines(
  lines: string[],
  env: Record<string, string> = {},
): Promise<string[]> {
  try {
    await parseLines(lines, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  assert.fail("expected a ConfigError");
}
