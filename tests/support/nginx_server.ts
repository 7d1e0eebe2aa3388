// Starts a throwaway nginx (one process, no daemon) on a free local port, for tests whose
// behaviour depends on a real server's keep-alive handling.
import { freePort } from "./redis_server.ts";

/** The nginx binary the tests use; Debian's `nginx-light` installs it here. */
export const NGINX = "/usr/sbin/nginx";

/** A running nginx under test. */
export interface TestNginx {
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Kills nginx, waits for it to exit and removes its directory. */
  stop(): Promise<void>;
}

/** Options for `startNginx`. */
export interface StartNginxOptions {
  /** Directives inside `http {}` before the server block, e.g. `keepalive_timeout 200ms;`. */
  http?: string;
  /** Directives inside `server {}` after `listen`, e.g. a `location` block. */
  server: string;
}

function nginxInstalled(): boolean {
  try {
    return Deno.statSync(NGINX).isFile;
  } catch {
    return false;
  }
}

/**
 * nginx tests are skipped where nginx is not installed (so `deno task test` works on a machine
 * with only Deno), except in CI (`CI=true`), where a missing nginx must fail the run.
 */
export const SKIP_NGINX: boolean = !nginxInstalled() && Deno.env.get("CI") !== "true";

if (SKIP_NGINX) {
  console.log(
    `nginx tests skipped: ${NGINX} is not installed (apt-get install nginx-light to run them)`,
  );
}

/** Writes a minimal configuration into a temporary directory and runs nginx in the foreground. */
export async function startNginx(options: StartNginxOptions): Promise<TestNginx> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-nginx-" });
  const port = freePort();
  const config = `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  ${options.http ?? ""}
  server {
    listen 127.0.0.1:${port};
    ${options.server}
  }
}
`;
  await Deno.writeTextFile(`${dir}/nginx.conf`, config);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(NGINX, {
      args: ["-p", dir, "-e", `${dir}/error.log`, "-c", `${dir}/nginx.conf`],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(`${NGINX} not found: install it (apt-get install nginx-light); .ci/run does`);
    }
    throw error;
  }
  const output = child.output();
  let exited = false;
  output.then(() => exited = true, () => exited = true);

  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      const result = await output;
      const log = await Deno.readTextFile(`${dir}/error.log`).catch(() => "");
      await Deno.remove(dir, { recursive: true });
      throw new Error(
        `nginx on port ${port} did not start:\n${new TextDecoder().decode(result.stderr)}${log}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  let stopped: Promise<void> | null = null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    stop() {
      stopped ??= (async () => {
        if (!exited) child.kill("SIGKILL");
        await output;
        await Deno.remove(dir, { recursive: true });
      })();
      return stopped;
    },
  };
}

async function accepts(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}
