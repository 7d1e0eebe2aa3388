// Starts a throwaway Postgres cluster (Debian's `postgresql` binaries) for the store tests: a temp
// data dir, a free port on 127.0.0.1, the unix socket in the temp dir, trust auth, no fsync.

import { freePort } from "./redis_server.ts";

/** A running test cluster. */
export interface TestPostgres {
  port: number;
  /** A URL for `database` (default `postgres`), as `storage.url` expects. */
  url(database?: string): string;
  /** Creates a fresh database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Runs one SQL statement with psql; its output, unaligned, without headers. */
  psql(database: string, sql: string): Promise<string>;
  /** Stops the server (fast shutdown: sessions are cut), keeping the data dir. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  restart(): Promise<void>;
  /** Stops it and deletes the data dir. */
  destroy(): Promise<void>;
}

const USER = "gateway";

/** The directory holding initdb, postgres and friends, or null when Postgres is not installed. */
function findBinDir(): string | null {
  try {
    const versions = [...Deno.readDirSync("/usr/lib/postgresql")]
      .map((entry) => entry.name)
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) {
      const bin = `/usr/lib/postgresql/${version}/bin`;
      if (exists(`${bin}/initdb`) && exists(`${bin}/postgres`)) return bin;
    }
  } catch {
    // No /usr/lib/postgresql: not Debian's layout, or not installed.
  }
  return null;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

const BIN_DIR = findBinDir();

/**
 * Postgres tests are skipped where the binaries are absent (so `deno task test` works on a machine
 * with only Deno), except in CI (`CI=true`), where a missing server must fail the run.
 */
export const SKIP_POSTGRES: boolean = BIN_DIR === null && Deno.env.get("CI") !== "true";

if (SKIP_POSTGRES) {
  console.log(
    "postgres tests skipped: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)",
  );
}

/** Registers a test that needs the Postgres binaries. */
export function postgresTest(name: string, fn: (t: Deno.TestContext) => Promise<void>): void {
  Deno.test({ name, ignore: SKIP_POSTGRES, fn });
}

/**
 * Postgres refuses to run as root: as root, the server runs as the `postgres` user (which
 * Debian's package creates), or `nobody`; null when the tests run as another user already.
 */
async function serverUser(): Promise<{ uid: number; gid: number; name: string } | null> {
  // `id` rather than Deno.uid(), which would need --allow-sys.
  if (await idOf([]) !== 0) return null;
  for (const name of ["postgres", "nobody"]) {
    const uid = await idOf(["-u", name]);
    const gid = await idOf(["-g", name]);
    if (uid !== null && gid !== null) return { uid, gid, name };
  }
  throw new Error("running as root and neither a postgres nor a nobody user exists");
}

/** `id -u` (or the given arguments): a number, or null when the user does not exist. */
async function idOf(args: string[]): Promise<number | null> {
  const out = await new Deno.Command("id", {
    args: args.length === 0 ? ["-u"] : args,
    stdout: "piped",
    stderr: "null",
  }).output();
  return out.success ? Number(new TextDecoder().decode(out.stdout).trim()) : null;
}

/** Initialises a cluster in a temp dir and starts it; resolves once it accepts connections. */
export async function startPostgres(): Promise<TestPostgres> {
  if (BIN_DIR === null) {
    throw new Error("postgres not found: install it (apt-get install postgresql); .ci/run does");
  }
  const bin = BIN_DIR;
  const user = await serverUser();
  const dir = await Deno.makeTempDir({ prefix: "gateway-pg-" });
  if (user !== null) await Deno.chown(dir, user.uid, user.gid);
  const data = `${dir}/data`;
  const port = freePort();
  // As root, `setpriv` runs the program as the server user; it execs, so signals reach postgres.
  const asServer = (program: string, args: string[]) => {
    const path = `${bin}/${program}`;
    const [command, argv] = user === null ? [path, args] : [
      "setpriv",
      [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--", path, ...args],
    ];
    return new Deno.Command(command, {
      args: argv,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  };

  const init = await asServer("initdb", [
    ...["-D", data, "-U", USER, "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"],
  ]).output();
  if (!init.success) {
    await Deno.remove(dir, { recursive: true });
    throw new Error(`initdb failed:\n${decode(init.stdout)}${decode(init.stderr)}`);
  }

  let server: { child: Deno.ChildProcess; output: Promise<Deno.CommandOutput> } | null = null;
  const start = async () => {
    const child = asServer("postgres", [
      ...["-D", data, "-p", String(port), "-k", dir],
      ...["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"],
      ...["-c", "synchronous_commit=off", "-c", "shared_buffers=16MB", "-c", "max_connections=40"],
    ]).spawn();
    // Collecting the output drains the pipes and gives the log to show if it never comes up.
    const output = child.output();
    let exited = false;
    output.then(() => exited = true, () => exited = true);
    server = { child, output };
    const deadline = Date.now() + 20_000;
    while (!(await ready(bin, port))) {
      if (exited || Date.now() > deadline) {
        if (!exited) child.kill("SIGKILL");
        const result = await output;
        server = null;
        throw new Error(`postgres on port ${port} did not start:\n${decode(result.stderr)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const running = server;
    if (running === null) return;
    server = null;
    // SIGINT: fast shutdown; open sessions are terminated, as in a real outage.
    running.child.kill("SIGINT");
    await running.output;
  };
  const client = (program: string, args: string[]) =>
    new Deno.Command(`${bin}/${program}`, {
      args: ["-h", "127.0.0.1", "-p", String(port), "-U", USER, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();

  try {
    await start();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  return {
    port,
    url: (database = "postgres") => `postgres://${USER}@127.0.0.1:${port}/${database}`,
    async createDatabase(name) {
      const out = await client("createdb", [name]);
      if (!out.success) throw new Error(`createdb ${name} failed: ${decode(out.stderr)}`);
      return `postgres://${USER}@127.0.0.1:${port}/${name}`;
    },
    async psql(database, sql) {
      const out = await client("psql", [
        "-d",
        database,
        "-tAX",
        "-v",
        "ON_ERROR_STOP=1",
        "-c",
        sql,
      ]);
      if (!out.success) throw new Error(`psql failed: ${decode(out.stderr)}`);
      return decode(out.stdout).trim();
    },
    stop,
    restart: start,
    async destroy() {
      await stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

async function ready(bin: string, port: number): Promise<boolean> {
  const out = await new Deno.Command(`${bin}/pg_isready`, {
    args: ["-h", "127.0.0.1", "-p", String(port), "-U", USER, "-d", "postgres", "-t", "1"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}
