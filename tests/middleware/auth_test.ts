import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, post, readError, type Setup, withGateway } from "../http/harness.ts";

const DANA = "gw-dana-key-0123456789";
/** `printf %s gw-dana-key-0123456789 | sha256sum`, as a user would put it in config.yaml. */
const DANA_SHA256 = "9bb1ea80c8b90a81ecc6feb1e9d296bffadd98568beeb0010d59222c7c3edcfe";
const ERIN = "gw-erin-key-0123456789";

const yaml = ({ a }: { a: { url: string } }) =>
  `auth:
  enabled: true
  keys:
    - name: dana
      key_sha256: "${DANA_SHA256}"
    - name: erin
      key: "${ERIN}"
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
`;

async function statusWith(gw: Setup["gw"], key: string): Promise<number> {
  const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o-mini"), {
    headers: { authorization: `Bearer ${key}` },
  });
  if (res.status === 401) {
    assert.equal((await readError(res)).code, "invalid_api_key");
  } else {
    await res.body?.cancel();
  }
  return res.status;
}

Deno.test("a key configured as its sha256 hash lets in the key sent, and only that key", async () => {
  await withGateway(yaml, async ({ gw }) => {
    assert.equal(await statusWith(gw, DANA), 200);
    assert.equal(await statusWith(gw, ERIN), 200);
    assert.equal(await statusWith(gw, DANA.slice(0, -1) + "8"), 401);
    assert.equal(await statusWith(gw, DANA + "0"), 401);
    assert.equal(await statusWith(gw, DANA_SHA256), 401, "the hash itself is not a key");
  });
});

Deno.test("each key is known by its own name in the access log", async () => {
  await withGateway(yaml, async ({ gw }) => {
    assert.equal(await statusWith(gw, DANA), 200);
    assert.equal(await statusWith(gw, ERIN), 200);
    const logs = await gw.logText();
    assert.match(logs, /"user.name":"dana"/);
    assert.match(logs, /"user.name":"erin"/);
    assert.doesNotMatch(logs, /gw-dana-key|gw-erin-key/);
  });
});
