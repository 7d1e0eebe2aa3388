import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, content, post, posts, readError, withGateway } from "./harness.ts";

const yaml = ({ a }: { a: { url: string } }) =>
  `providers:
${providerYaml("a", a.url)}
`;

/** An 8 MB chat body (under the default 10 MB limit) whose content nests 4 million levels deep. */
function deepBody(): string {
  const depth = 4_000_000;
  return `{"model":"a/gpt-4o","messages":[{"role":"user","content":${"[".repeat(depth)}${
    "]".repeat(depth)
  }}]}`;
}

Deno.test("a body nested past server.max_json_depth gets 400 while /v1/info keeps answering", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    const body = deepBody();
    let refused: Response | undefined;
    const started = performance.now();
    const sending = post(gw, "/v1/chat/completions", body).then((res) => {
      refused = res;
    });
    // Probes go out back to back until the deep request is answered: any stall of the event
    // loop while the body is handled shows as one slow probe.
    let slowest = 0;
    let probes = 0;
    while (refused === undefined || probes === 0) {
      const sent = performance.now();
      const info = await fetch(gw.url + "/v1/info");
      assert.equal(info.status, 200);
      await info.body?.cancel();
      slowest = Math.max(slowest, performance.now() - sent);
      probes++;
    }
    await sending;
    const elapsed = performance.now() - started;
    assert.equal(refused.status, 400);
    const err = await readError(refused);
    assert.equal(err.code, "invalid_request");
    assert.match(err.message, /deeper than the gateway's limit of 128 levels/);
    assert.match(err.message, /server\.max_json_depth/);
    assert.ok(slowest < 100, `a /v1/info probe took ${slowest.toFixed(0)} ms (${probes} probes)`);
    assert.ok(elapsed < 2000, `the deep body took ${elapsed.toFixed(0)} ms to refuse`);
    assert.equal(posts(a), 0, "nothing reached the provider");
    const ok = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(ok), "Hello from a");
  });
});

Deno.test("nesting within server.max_json_depth is served, and the limit is configurable", async () => {
  const shallow = (depth: number) => ({
    model: "a/gpt-4o",
    messages: [{ role: "user", content: "hi" }],
    // The body and messages already take two levels, the message a third.
    metadata: JSON.parse("[".repeat(depth - 1) + "]".repeat(depth - 1)),
  });
  await withGateway(
    ({ a }) => `server:\n  max_json_depth: 8\n${yaml({ a })}`,
    async ({ gw, a }) => {
      const within = await post(gw, "/v1/chat/completions", shallow(8));
      assert.equal(within.status, 200);
      await within.body?.cancel();
      const beyond = await post(gw, "/v1/chat/completions", shallow(9));
      assert.equal(beyond.status, 400);
      assert.match((await readError(beyond)).message, /limit of 8 levels/);
      assert.equal(posts(a), 1);
    },
  );
});
