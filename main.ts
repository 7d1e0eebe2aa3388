/**
 * Command line entry point: flags, configuration, server start, signals.
 * Run `deno task start --help` for usage.
 */
import denoJson from "./deno.json" with { type: "json" };
import { ConfigError } from "./src/config/errors.ts";
import { defaultConfig, loadConfig, resolveConfigPath } from "./src/config/load.ts";
import type { GatewayConfig } from "./src/config/types.ts";
import { watchConfig } from "./src/config/watch.ts";
import { openFileLimit } from "./src/http/listener.ts";
import { type RunningServer, startServer } from "./src/http/server.ts";
import { openGatewayStore } from "./src/http/store_service.ts";
import { createLogger, type Logger } from "./src/observability/logger.ts";

/** The gateway's version, from deno.json. */
export const VERSION: string = denoJson.version;

const USAGE = `llm-gateway ${VERSION}: one OpenAI-compatible API in front of many LLM providers

Usage: deno task start [options]

Options:
  -c, --config PATH   configuration file (default: $GATEWAY_CONFIG, else ./config.yaml;
                      without a file the embedded default is used)
      --check         validate the configuration, print the result and exit (1 on errors)
      --host HOST     override server.host
      --port PORT     override server.port
  -h, --help          print this help and exit
  -V, --version       print the version and exit
`;

interface Flags {
  config?: string;
  check: boolean;
  help: boolean;
  version: boolean;
  host?: string;
  port?: number;
}

/** Parses command-line flags; throws on unknown or incomplete flags. */
export function parseFlags(args: readonly string[]): Flags {
  const flags: Flags = { check: false, help: false, version: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const [name, inline] = arg.startsWith("--") && arg.includes("=")
      ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
      : [arg, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === "") throw new Error(`${name} needs a value`);
      return v;
    };
    switch (name) {
      case "-c":
      case "--config":
        flags.config = value();
        break;
      case "--check":
        flags.check = true;
        break;
      case "--host":
        flags.host = value();
        break;
      case "--port": {
        const v = value();
        const port = Number(v);
        if (!Number.isInteger(port) || port < 0 || port > 65535) {
          throw new Error(`--port: expected a port number 0-65535, got "${v}"`);
        }
        flags.port = port;
        break;
      }
      case "-h":
      case "--help":
        flags.help = true;
        break;
      case "-V":
      case "--version":
        flags.version = true;
        break;
      default:
        throw new Error(`unknown option "${arg}" (see --help)`);
    }
  }
  return flags;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/** Loads the configuration named by the flags, or the embedded default when there is no file. */
async function configure(
  flags: Flags,
  env: Record<string, string | undefined>,
): Promise<{ config: GatewayConfig; source: string; defaults?: string[] }> {
  const { path, explicit } = resolveConfigPath({ flag: flags.config, env });
  if (!explicit && !(await fileExists(path))) {
    const { config, enabled } = await defaultConfig(env);
    return { config, source: "embedded default", defaults: enabled };
  }
  return { config: await loadConfig(path, env), source: path };
}

async function main(args: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(args);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  if (flags.version) {
    console.log(VERSION);
    return 0;
  }
  const env = Deno.env.toObject();
  let loaded;
  try {
    loaded = await configure(flags, env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`configuration error:\n${err.message}`);
    return 1;
  }
  const { config, source } = loaded;
  if (flags.host !== undefined) config.server.host = flags.host;
  if (flags.port !== undefined) config.server.port = flags.port;
  const enabled = config.providers.filter((p) => p.enabled).map((p) => p.name);

  if (flags.check) {
    console.log(
      `configuration OK (${source}): ${enabled.length} enabled provider(s)` +
        `${
          enabled.length ? ": " + enabled.join(", ") : ""
        }; ${config.strategies.length} strategy(ies)`,
    );
    return 0;
  }

  const logger = createLogger(config.logging.level, { format: config.logging.format });
  if (loaded.defaults !== undefined) {
    logger.info(
      loaded.defaults.length > 0
        ? `no config file; embedded default enabled providers from the environment: ${
          loaded.defaults.join(", ")
        }`
        : "no config file and no provider key in the environment; serving with no provider " +
          "(set OPENAI_API_KEY or write config.yaml)",
      { "gateway.providers": loaded.defaults },
    );
  }
  let store;
  try {
    store = await openGatewayStore(config, logger);
  } catch (err) {
    // A store the config names explicitly that cannot be opened: the message names the field.
    console.error(`configuration error:\n${(err as Error).message}`);
    await logger.flush();
    return 1;
  }
  let server;
  try {
    server = await startServer(config, { logger, version: VERSION, store });
  } catch (err) {
    await store?.close();
    if (err instanceof ConfigError) {
      console.error(`configuration error:\n${err.message}`);
      return 1;
    }
    if (err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.PermissionDenied) {
      console.error(
        `cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message}`,
      );
      return 1;
    }
    throw err;
  }
  const watcher = loaded.defaults === undefined
    ? watchConfig(source, (reason) => reloadConfig(server, source, reason, logger))
    : null;
  const files = openFileLimit();
  if (files !== null) {
    // Every proxied request holds two descriptors: one to its client, one to its upstream.
    const level = files.soft < 2 * config.server.max_connections + 64 ? "warn" : "info";
    logger[level](`open file limit: ${files.soft} (hard ${files.hard})`, {
      "gateway.files.soft_limit": files.soft,
      "gateway.files.hard_limit": files.hard,
      "gateway.max_connections": config.server.max_connections,
    });
  }
  logger.info(`listening on ${server.url}`, {
    "service.version": VERSION,
    "gateway.config": source,
    "gateway.providers": enabled,
  });

  let stopping = false;
  const stop = () => {
    // A second signal means "now": skip the grace period.
    if (stopping) Deno.exit(130);
    stopping = true;
    logger.info("shutting down; a second signal exits at once");
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
  await server.finished;
  watcher?.close();
  await server.shutdown();
  await store?.close();
  return 0;
}

/** Reloads the config file; an invalid one is rejected and the running one keeps serving. */
async function reloadConfig(
  server: RunningServer,
  path: string,
  reason: string,
  logger: Logger,
): Promise<void> {
  const refused = (err: ConfigError) =>
    logger.error("configuration reload rejected; the running configuration keeps serving", {
      "gateway.config": path,
      "gateway.reload.reason": reason,
      "error.message": err.message,
      "gateway.config.generation": server.generation,
    });
  let config: GatewayConfig;
  try {
    config = await loadConfig(path, Deno.env.toObject());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    server.rejectReload(err.message);
    refused(err);
    return;
  }
  try {
    await server.reload(config);
  } catch (err) {
    // The server counted the rejection itself.
    if (!(err instanceof ConfigError)) throw err;
    refused(err);
    return;
  }
  logger.info("configuration reloaded", {
    "gateway.config": path,
    "gateway.reload.reason": reason,
    "gateway.config.generation": server.generation,
    "gateway.providers": config.providers.filter((p) => p.enabled).map((p) => p.name),
  });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
