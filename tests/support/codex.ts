// The OpenAI Codex CLI (`codex exec`), a test-only program: installed from npm into a cache
// directory, and run non-interactively against a server under test through a custom model
// provider in a fresh CODEX_HOME. Tests skip, saying why, when it cannot be installed.
import { join } from "node:path";
import { installFromNpm, pathExists, runProgram, testCacheDir } from "./npm_program.ts";

/** The Codex CLI release the tests run (docs/clients/codex.md describes what it sends). */
export const CODEX_PACKAGE = "@openai/codex@0.171.0";
/** The variable the custom provider reads its API key from. */
const KEY_VARIABLE = "CODEX_PROVIDER_KEY";

/** An installed Codex: its native executable and the folder of helpers it expects on PATH. */
export interface CodexInstall {
  binary: string;
  pathDir?: string;
  version: string;
}

/** What one `codex exec` run gave. */
export interface CodexRun {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** The answer Codex printed (stdout carries only the final message; empty when it failed). */
  answer: string;
  /** The `ERROR: ...` lines Codex printed on stderr. */
  errors: string[];
  /** The config.toml it ran with. */
  config: string;
}

/** Options for `runCodex`. */
export interface CodexRunOptions {
  /** The model Codex asks for (default "gpt-5.5", one whose tools Codex knows). */
  model?: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Where Codex's shell and patch tools may write (default read-only). */
  sandbox?: "read-only" | "workspace-write";
  /** Codex's own request and stream retries (default off, so a failure shows at once). */
  retries?: boolean;
  /** Killed after this long (default 60 s). */
  timeoutMs?: number;
  /** Codex's working directory, kept for the caller (default: a fresh one, removed after). */
  workdir?: string;
}

/** Rust's name for this platform, as the npm packages lay out their vendor folders. */
function targetTriple(): string | undefined {
  const arch = Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
  if (Deno.build.os === "linux") return `${arch}-unknown-linux-musl`;
  if (Deno.build.os === "darwin") return `${arch}-apple-darwin`;
  return undefined;
}

/**
 * The native executable npm laid out: the `@openai/codex` package's Node wrapper picks it from a
 * per-platform optional dependency (`@openai/codex-<os>-<arch>`), or from its own vendor folder
 * in older releases. Running it directly spares a Node process in between.
 */
async function binaryIn(dir: string): Promise<Omit<CodexInstall, "version"> | undefined> {
  const triple = targetTriple();
  if (triple === undefined) return undefined;
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  const modules = join(dir, "node_modules", "@openai");
  for (
    const vendor of [
      join(modules, `codex-${os}-${arch}`, "vendor"),
      join(modules, "codex", "vendor"),
    ]
  ) {
    const binary = join(vendor, triple, "bin", "codex");
    if (!(await pathExists(binary))) continue;
    const pathDir = join(vendor, triple, "codex-path");
    return { binary, pathDir: (await pathExists(pathDir)) ? pathDir : undefined };
  }
  return undefined;
}

/** Installs Codex once into the test cache; a reason to skip when it cannot be had or run. */
export async function installCodex(): Promise<CodexInstall | string> {
  const dir = testCacheDir(CODEX_PACKAGE.replace(/^@openai\//, ""));
  const found = await installFromNpm(dir, CODEX_PACKAGE, binaryIn);
  if (typeof found === "string") return found;
  const version = await runProgram(found.binary, ["--version"], { timeoutMs: 30_000 });
  if (version.code !== 0) return `codex --version failed: ${version.stderr.trim()}`;
  return { ...found, version: version.stdout.trim() };
}

/**
 * The config.toml of a run: one custom provider speaking the Responses API at `baseUrl`/v1,
 * nothing that asks, updates or reports.
 */
export function codexConfig(baseUrl: string, options: CodexRunOptions = {}): string {
  const retries = options.retries === true ? [] : [
    "request_max_retries = 0",
    "stream_max_retries = 0",
  ];
  return [
    `model = ${JSON.stringify(options.model ?? "gpt-5.5")}`,
    'model_provider = "under_test"',
    'approval_policy = "never"',
    `sandbox_mode = ${JSON.stringify(options.sandbox ?? "read-only")}`,
    "check_for_update_on_startup = false",
    "",
    "[model_providers.under_test]",
    'name = "Server under test"',
    `base_url = ${JSON.stringify(`${baseUrl}/v1`)}`,
    `env_key = "${KEY_VARIABLE}"`,
    'wire_api = "responses"',
    ...retries,
    "",
    "[analytics]",
    "enabled = false",
    "",
    "[feedback]",
    "enabled = false",
    "",
    "[otel]",
    'exporter = "none"',
    "",
    "[history]",
    'persistence = "none"',
    "",
  ].join("\n");
}

/**
 * Runs `codex exec <prompt>` against the server at `baseUrl` in a fresh CODEX_HOME, which is also
 * its HOME, removed after.
 */
export async function runCodex(
  install: CodexInstall,
  baseUrl: string,
  prompt: string,
  options: CodexRunOptions = {},
): Promise<CodexRun> {
  const home = await Deno.makeTempDir({ prefix: "codex-home-" });
  const workdir = options.workdir ?? await Deno.makeTempDir({ prefix: "codex-work-" });
  try {
    const config = codexConfig(baseUrl, options);
    await Deno.writeTextFile(join(home, "config.toml"), config);
    const path = [install.pathDir, Deno.env.get("PATH") ?? "/usr/bin:/bin"]
      .filter((dir) => dir !== undefined).join(":");
    const out = await runProgram(
      install.binary,
      ["exec", "--strict-config", "--skip-git-repo-check", "--color", "never", prompt],
      {
        timeoutMs: options.timeoutMs ?? 60_000,
        clearEnv: true,
        cwd: workdir,
        env: {
          PATH: path,
          HOME: home,
          CODEX_HOME: home,
          [KEY_VARIABLE]: options.apiKey ?? "sk-codex-client",
        },
      },
    );
    const errors = out.stderr.split("\n").filter((line) => line.startsWith("ERROR: "));
    return { ...out, answer: out.stdout.trim(), errors, config };
  } finally {
    await Deno.remove(home, { recursive: true });
    if (options.workdir === undefined) await Deno.remove(workdir, { recursive: true });
  }
}
