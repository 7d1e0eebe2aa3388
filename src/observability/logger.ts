import type { LogLevel } from "../config/types.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * How long lines gather before one write. Under load, a write per event-loop turn meant a timer
 * and a write op for every few requests; 20 ms batches them by the hundred and is still
 * immediate to a person reading the log.
 */
const FLUSH_DELAY_MS = 20;

/** ECS version the log events follow. */
export const ECS_VERSION = "8.11.0";

/** Structured fields of one log event (ECS field names where one exists). */
export type LogFields = Record<string, unknown>;

/** Output format: ECS JSON lines, or one readable line per event for a terminal. */
export type LogFormat = "json" | "pretty";

/** A structured logger. Writes are batched and asynchronous: no sync I/O per request. */
export interface Logger {
  /** Whether events at `level` are written; check before building costly fields. */
  enabled(level: LogLevel): boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Changes level and format (a config reload). */
  configure(level: LogLevel, format: LogFormat): void;
  /** Writes out whatever is buffered. */
  flush(): Promise<void>;
}

/** Where log lines go; stdout unless a test captures them. */
export type LogSink = (text: string) => Promise<void> | void;

/**
 * Creates a logger writing at or above `level`. Lines are appended to a buffer and written by
 * one asynchronous writer: a slow stdout delays the writes, never the requests, and no line is
 * dropped (the buffer grows while the sink is slow).
 */
export function createLogger(
  level: LogLevel,
  options: { format?: LogFormat; sink?: LogSink } = {},
): Logger {
  const sink = options.sink ?? writeStdout;
  let min = RANK[level];
  let format = options.format ?? "json";
  let buffer = "";
  let writing: Promise<void> | undefined;
  let scheduled = false;

  async function drain(): Promise<void> {
    while (buffer !== "") {
      const text = buffer;
      buffer = "";
      try {
        await sink(text);
      } catch {
        // stdout closed (e.g. a broken pipe): nothing left to tell.
      }
    }
  }

  function flush(): Promise<void> {
    scheduled = false;
    writing ??= drain().finally(() => writing = undefined);
    return writing;
  }

  function write(lvl: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[lvl] < min) return;
    const timestamp = clock.iso();
    buffer += format === "json"
      ? jsonLine(timestamp, lvl, message, fields)
      : pretty(timestamp, lvl, message, fields);
    if (!scheduled && writing === undefined) {
      scheduled = true;
      setTimeout(flush, FLUSH_DELAY_MS);
    }
  }

  return {
    enabled: (lvl) => RANK[lvl] >= min,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    configure(newLevel, newFormat) {
      min = RANK[newLevel];
      format = newFormat;
    },
    flush: async () => {
      await flush();
      if (buffer !== "") await flush();
    },
  };
}

/** Millisecond timestamps, formatted once per millisecond (many lines share one under load). */
class IsoClock {
  #ms = -1;
  #text = "";

  iso(): string {
    const now = Date.now();
    if (now !== this.#ms) {
      this.#ms = now;
      this.#text = new Date(now).toISOString();
    }
    return this.#text;
  }
}

const clock = new IsoClock();

/**
 * One ECS JSON line. The fixed head is concatenated and the fields serialised on their own,
 * instead of spreading them into a new object first (this runs for every request).
 */
function jsonLine(timestamp: string, level: LogLevel, message: string, fields?: LogFields): string {
  const head = `{"@timestamp":"${timestamp}","log.level":"${level}","message":${
    JSON.stringify(message)
  },"ecs.version":"${ECS_VERSION}"`;
  const rest = fields === undefined ? "{}" : JSON.stringify(fields);
  return rest === "{}" ? head + "}\n" : head + "," + rest.slice(1) + "\n";
}

function pretty(timestamp: string, level: LogLevel, message: string, fields?: LogFields): string {
  let line = `${timestamp.slice(11, 23)} ${level.toUpperCase().padEnd(5)} ${message}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    line += ` ${key}=${typeof value === "string" ? value : JSON.stringify(value)}`;
  }
  return line + "\n";
}

const encoder = new TextEncoder();

async function writeStdout(text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.byteLength > 0) {
    const n = await Deno.stdout.write(bytes);
    bytes = bytes.subarray(n);
  }
}
