// The gateway-key check a request pays with auth on: `deno bench bench/auth_bench.ts`.
import type { AuthConfig } from "../src/config/types.ts";
import type { Context } from "../src/http/context.ts";
import { authenticate } from "../src/middleware/auth.ts";
import { parseConfig } from "../src/config/load.ts";

/** A config with `count` plain keys; the last one is the one the requests send. */
async function authWith(count: number): Promise<{ auth: AuthConfig; key: string }> {
  const keys = Array.from({ length: count }, (_, i) => `gw-caller-${i}-0123456789abcdef0123456789`);
  const lines = keys.map((key, i) => `    - {name: caller${i}, key: "${key}"}`);
  const yaml = ["auth:", "  enabled: true", "  keys:", ...lines].join("\n");
  const config = await parseConfig(yaml, { filename: "bench.yaml", env: {} });
  return { auth: config.auth, key: keys.at(-1)! };
}

function contextFor(key: string): Context {
  return {
    request: new Request("http://gateway/v1/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${key}` },
    }),
    path: "/v1/chat/completions",
    requestId: "bench",
    remoteAddr: "127.0.0.1",
    params: {},
    caller: null,
    startedAt: 0,
    state: {},
  };
}

const ok = new Response("ok");
const next = () => Promise.resolve(ok);

for (const count of [1, 10]) {
  const { auth, key } = await authWith(count);
  const middleware = authenticate(auth, { verifier: null, open: new Set() });
  const valid = contextFor(key);
  const wrong = contextFor(key.slice(0, -1) + "x");
  await middleware(valid, next);
  Deno.bench(`${count} key(s): a valid key`, { group: `keys${count}` }, async () => {
    await middleware(valid, next);
  });
  Deno.bench(`${count} key(s): a wrong key`, { group: `keys${count}` }, async () => {
    await middleware(wrong, next).catch(() => {});
  });
}
