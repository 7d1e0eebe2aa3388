import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { GatewayConfig, LimitRule } from "../../src/config/types.ts";
import { Stores } from "../../src/http/stores.ts";
import type { MemoryLimiter } from "../../src/ratelimit/memory.ts";

const RULE: LimitRule = { requests: 10, tokens: null, window_ms: 60_000 };

function config(ratelimit: string, auth = ""): Promise<GatewayConfig> {
  const yaml = `${ratelimit}\n${auth}\nproviders:
  - name: a
    type: openai
    target_url: http://127.0.0.1:9/v1
`;
  return parseConfig(yaml, { filename: "test.yaml", env: {} });
}

const LIMITED = "ratelimit:\n  enabled: true\n  default: { requests: 10, window: 1m }";
const STRICTER = "ratelimit:\n  enabled: true\n  default: { requests: 5, window: 1m }";
const OIDC = `auth:
  enabled: true
  issuer: https://idp.example.com/realms/main`;

/** Keys the limiter holds: 0 once it has been closed. */
function held(limiter: unknown): number {
  return (limiter as MemoryLimiter).size;
}

Deno.test("a reload with the same rate-limit settings keeps the limiter and its counts", async () => {
  const stores = new Stores();
  const first = stores.take(await config(LIMITED));
  await first.limiter!.check("key:alice", RULE);
  const second = stores.take(await config(LIMITED));
  assert.equal(second.limiter, first.limiter);
  await first.release();
  assert.equal(
    held(second.limiter),
    1,
    "the old generation's release leaves the shared store open",
  );
  assert.equal((await second.limiter!.check("key:alice", RULE)).remaining, 8);
  await second.release();
  assert.equal(held(second.limiter), 0, "the last generation's release closes it");
});

Deno.test("changed rate-limit settings get a new limiter; the old one closes when its generation drains", async () => {
  const stores = new Stores();
  const first = stores.take(await config(LIMITED));
  await first.limiter!.check("key:alice", RULE);
  const second = stores.take(await config(STRICTER));
  assert.notEqual(second.limiter, first.limiter);
  assert.equal(held(first.limiter), 1, "requests still in flight on the old generation use it");
  await first.release();
  assert.equal(held(first.limiter), 0);
  // Releasing twice (retire after shutdown, say) does not count twice.
  await first.release();
  const third = stores.take(await config(STRICTER));
  assert.equal(third.limiter, second.limiter);
  await second.release();
  await third.release();
});

Deno.test("rate limiting turned off and on again starts with fresh counts", async () => {
  const stores = new Stores();
  const first = stores.take(await config(LIMITED));
  await first.limiter!.check("key:alice", RULE);
  const off = stores.take(await config(""));
  assert.equal(off.limiter, null);
  const again = stores.take(await config(LIMITED));
  assert.notEqual(again.limiter, first.limiter);
  assert.equal(held(again.limiter), 0);
  await Promise.all([first.release(), off.release(), again.release()]);
  assert.equal(held(first.limiter), 0);
});

Deno.test("the OIDC verifier (and its key cache) is kept while the issuer settings are unchanged", async () => {
  const stores = new Stores();
  const first = stores.take(await config("", OIDC));
  assert.notEqual(first.verifier, null);
  const same = stores.take(await config(LIMITED, OIDC));
  assert.equal(same.verifier, first.verifier, "a rate-limit change keeps the verifier");
  const none = stores.take(await config(LIMITED));
  assert.equal(none.verifier, null);
  const back = stores.take(await config("", OIDC));
  assert.notEqual(back.verifier, first.verifier);
  await Promise.all([first, same, none, back].map((lease) => lease.release()));
});
