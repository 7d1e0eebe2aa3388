// Starts the real gateway on a real port (127.0.0.1:0) from YAML text, for integration tests.
import { parseConfig } from "../../src/config/load.ts";
import type { GatewayConfig } from "../../src/config/types.ts";
import type { ExecutorDeps } from "../../src/core/executor.ts";
import type { ResponseMiddleware } from "../../src/http/response_middleware.ts";
import { type RunningServer, type ServerOptions, startServer } from "../../src/http/server.ts";
import { openStore } from "../../src/store/open.ts";
import type { Store } from "../../src/store/store.ts";
import { createLogger } from "../../src/observability/logger.ts";

/** A gateway under test, with the log lines it wrote. */
export interface TestGateway {
  url: string;
  server: RunningServer;
  config: GatewayConfig;
  /** Parsed JSON log events. */
  logs: Record<string, unknown>[];
  /** Raw log text (to check that no secret is ever written). */
  logText(): Promise<string>;
  close(): Promise<void>;
}

/** Options for `startGateway`. */
export interface TestGatewayOptions {
  env?: Record<string, string>;
  /** Start the periodic model refresh (default false: tests call `catalog.refresh()`). */
  refreshModels?: boolean;
  executor?: ExecutorDeps;
  responseMiddleware?: readonly ResponseMiddleware[];
  /** The store the gateway uses (the test opens and closes it). */
  store?: Store;
  /**
   * Opens the store the YAML's `storage:` block names instead (closed with the gateway). Without
   * either a test gateway runs with no store, and never touches `./data`.
   */
  openStorage?: boolean;
  /** Store tuning: the usage writer's batching and retries, the key poll. */
  storeService?: ServerOptions["storeService"];
}

/** Parses `yaml` (port forced to 0, host to 127.0.0.1) and starts the gateway on it. */
export async function startGateway(
  yaml: string,
  options: TestGatewayOptions = {},
): Promise<TestGateway> {
  const config = await parseConfig(yaml, { filename: "test.yaml", env: options.env ?? {} });
  config.server.host = "127.0.0.1";
  config.server.port = 0;
  let text = "";
  const logger = createLogger(config.logging.level, {
    sink: (chunk) => {
      text += chunk;
    },
  });
  let store: Store | null = options.store ?? null;
  let owned = false;
  if (options.openStorage === true) {
    if (config.storage === null) throw new Error("openStorage needs a storage: block in the YAML");
    const opened = await openStore(config.storage);
    if (opened.store === null) throw new Error(`test store not opened: ${opened.reason}`);
    store = opened.store;
    owned = true;
  }
  let server: RunningServer;
  try {
    server = await startServer(config, {
      logger,
      version: "test",
      refreshModels: options.refreshModels ?? false,
      executor: options.executor,
      responseMiddleware: options.responseMiddleware,
      store,
      storeService: options.storeService,
    });
  } catch (err) {
    if (owned) await store?.close();
    throw err;
  }
  const logs: Record<string, unknown>[] = [];
  return {
    url: server.url,
    server,
    config,
    logs,
    async logText() {
      await logger.flush();
      return text;
    },
    async close() {
      await server.shutdown();
      if (owned) await store?.close();
      await logger.flush();
      logs.push(...text.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l)));
    },
  };
}

/** YAML for one provider of type openai pointing at `url`. */
export function providerYaml(
  name: string,
  url: string,
  extra: Record<string, string | number | null> = {},
): string {
  const lines = [
    `  - name: "${name}"`,
    `    target_url: "${url}"`,
    `    api_key: "sk-${name}-secret"`,
  ];
  for (const [key, value] of Object.entries(extra)) {
    lines.push(`    ${key}: ${typeof value === "string" ? `"${value}"` : value}`);
  }
  return lines.join("\n");
}
