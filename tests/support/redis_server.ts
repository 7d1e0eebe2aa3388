// Starts a throwaway redis-server on a free local port for rate-limiter tests.

/** A running redis-server under test. */
export interface TestRedis {
  port: number;
  /** `127.0.0.1:<port>`, as `ratelimit.redis_address` expects. */
  address: string;
  /** Kills the server and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options for `startRedis`. */
export interface StartRedisOptions {
  /** Reuse a port (to restart a stopped server where clients expect it); default a free one. */
  port?: number;
  /** Extra `redis-server` arguments, e.g. `["--requirepass", "secret"]`. */
  args?: string[];
  /** How long to wait for the first PONG (default 10 s). */
  timeoutMs?: number;
}

/** Spawns `redis-server` without persistence on 127.0.0.1 and resolves once it answers PING. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const port = options.port ?? freePort();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("redis-server", {
      args: [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        ...(options.args ?? []),
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        "redis-server not found: install it (apt-get install redis-server); .ci/run does",
      );
    }
    throw error;
  }
  // Collecting the output drains the pipes (a full pipe would block the server) and gives the
  // log to show if it never comes up.
  const output = child.output();
  let exited = false;
  output.then(() => exited = true, () => exited = true);

  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await answersPing(port))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      const result = await output;
      const log = new TextDecoder().decode(result.stdout) + new TextDecoder().decode(result.stderr);
      throw new Error(`redis-server on port ${port} did not answer PING:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  let stopped: Promise<void> | null = null;
  return {
    port,
    address: `127.0.0.1:${port}`,
    stop() {
      stopped ??= (async () => {
        if (!exited) child.kill("SIGKILL");
        await output;
      })();
      return stopped;
    },
  };
}

/** A port nothing listens on right now (the OS picks it; the tiny reuse race is acceptable). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function answersPing(port: number): Promise<boolean> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch {
    return false;
  }
  try {
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const n = await conn.read(buffer);
    const reply = n === null ? "" : new TextDecoder().decode(buffer.subarray(0, n));
    // NOAUTH: up, with a password; "-LOADING" and friends: up but not ready yet.
    return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    conn.close();
  }
}

function redisServerInstalled(): boolean {
  try {
    new Deno.Command("redis-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync();
    return true;
  } catch {
    return false;
  }
}

/**
 * Redis tests are skipped where `redis-server` is not installed (so `deno task test` works on a
 * machine with only Deno), except in CI (`CI=true`), where a missing server must fail the run.
 */
export const SKIP_REDIS: boolean = !redisServerInstalled() && Deno.env.get("CI") !== "true";

if (SKIP_REDIS) {
  console.log(
    "redis tests skipped: redis-server is not installed (apt-get install redis-server to run them)",
  );
}

/** Registers a test that needs a `redis-server` binary. */
export function redisTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ignore: SKIP_REDIS, fn });
}
