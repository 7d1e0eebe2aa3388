import type { LogLevel } from "../config/types.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured fields of one log event (ECS field names where one exists). */
export type LogFields = Record<string, unknown>;

/** A JSON-lines logger. Writes are batched and asynchronous: no sync I/O per request. */
export interface Logger {
  /** Whether events at `level` are written; check before building costly fields. */
  enabled(level: LogLevel): boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** Writes out whatever is buffered. */
  flush(): Promise<void>;
}

/** Where log lines go; stdout unless a test captures them. */
export type LogSink = (text: string) => Promise<void> | void;

/** Creates a logger writing ECS-style JSON lines at or above `level`. */
export function createLogger(level: LogLevel, sink: LogSink = writeStdout): Logger {
  const min = RANK[level];
  let buffer = "";
  let pending: Promise<void> | undefined;

  function flush(): Promise<void> {
    if (buffer === "") return pending ?? Promise.resolve();
    const text = buffer;
    buffer = "";
    const previous = pending ?? Promise.resolve();
    const done = previous.then(() => sink(text)).catch(() => {});
    pending = done;
    done.then(() => {
      if (pending === done) pending = undefined;
    });
    return done;
  }

  function write(lvl: LogLevel, message: string, fields?: LogFields): void {
    if (RANK[lvl] < min) return;
    const event = { "@timestamp": new Date().toISOString(), "log.level": lvl, message, ...fields };
    const schedule = buffer === "";
    buffer += JSON.stringify(event) + "\n";
    if (schedule) setTimeout(flush, 0);
  }

  return {
    enabled: (lvl) => RANK[lvl] >= min,
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    flush,
  };
}

const encoder = new TextEncoder();

async function writeStdout(text: string): Promise<void> {
  let bytes = encoder.encode(text);
  while (bytes.byteLength > 0) {
    const n = await Deno.stdout.write(bytes);
    bytes = bytes.subarray(n);
  }
}
