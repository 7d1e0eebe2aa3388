// The official `openai` SDK with a virtual key from the admin API: the cost the gateway reports
// in its header and in /admin/usage is the tokens times the configured price, streams included.
import assert from "node:assert/strict";
import { OpenAI } from "../support/openai.ts";
import { providerYaml, type TestGateway } from "../support/gateway.ts";
import type { MockUpstream } from "../support/mock_upstream.ts";
import { withStoreGateway } from "../support/store_gateway.ts";
import { sdkClient } from "../support/sdk.ts";
import { ADMIN_KEY, authYaml, createKey, eventually, usageRows } from "../support/admin_api.ts";

/** USD per million tokens, as configured below. */
const PRICE = { input: 2.5, output: 10, cached_input: 1.25 };
const USAGE = { prompt: 1234, completion: 567, cached: 200 };
/** What one answer costs: fresh prompt tokens, cached ones and completion tokens, each at its price. */
const COST = ((USAGE.prompt - USAGE.cached) * PRICE.input + USAGE.cached * PRICE.cached_input +
  USAGE.completion * PRICE.output) / 1e6;

function withGateway(fn: (gw: TestGateway, alpha: MockUpstream) => Promise<void>) {
  return withStoreGateway(
    { name: "alpha", models: ["gpt-4o"] },
    (alpha) =>
      `${authYaml()}providers:
${providerYaml("alpha", alpha.url)}
    models:
      - name: gpt-4o
        price: {input: ${PRICE.input}, output: ${PRICE.output}, cached_input: ${PRICE.cached_input}}
`,
    (gw, alpha) => {
      alpha.setDefault((req) =>
        (req.body as { stream?: boolean }).stream === true
          ? { type: "stream", usage: USAGE }
          : { type: "ok", usage: USAGE }
      );
      return fn(gw, alpha);
    },
    { storeService: { writer: { flushIntervalMs: 20 } } },
  );
}

Deno.test("SDK with a virtual key: cost in the header and in /admin/usage is tokens times price", () =>
  withGateway(async (gw) => {
    const { key } = await createKey(gw, { name: "sdk-app", groups: ["apps"] });
    const client = sdkClient(gw.url, key);
    const messages = [{ role: "user" as const, content: "Say hello" }];

    const { data, response } = await client.chat.completions
      .create({ model: "alpha/gpt-4o", messages })
      .withResponse();
    assert.equal(data.usage?.prompt_tokens, USAGE.prompt);
    assert.equal(data.usage?.completion_tokens, USAGE.completion);
    assert.equal(Number(response.headers.get("x-gateway-cost-usd")), COST);

    const stream = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.ok(text.length > 0);

    const rows = await eventually(async () => {
      const rows = await usageRows(gw, "key");
      return rows[0]?.requests === 2 ? rows : undefined;
    }, { what: "two usage records" });
    assert.deepEqual(rows, [{
      key: "sdk-app",
      requests: 2,
      input_tokens: 2 * USAGE.prompt,
      output_tokens: 2 * USAGE.completion,
      cost_usd: 2 * COST,
    }]);
    for (
      const [groupBy, value] of [["model", "gpt-4o"], ["provider", "alpha"], ["group", "apps"]]
    ) {
      const [row] = await usageRows(gw, groupBy!);
      assert.equal(row?.[groupBy!], value, groupBy);
      assert.equal(row?.cost_usd, 2 * COST, groupBy);
    }
  }));

Deno.test("SDK with a revoked virtual key gets an AuthenticationError", () =>
  withGateway(async (gw) => {
    const { id, key } = await createKey(gw, { name: "short" });
    const res = await fetch(`${gw.url}/admin/keys/${id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await assert.rejects(
      sdkClient(gw.url, key).chat.completions.create({
        model: "alpha/gpt-4o",
        messages: [{ role: "user", content: "hi" }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
        assert.match(err.message, /API key revoked/);
        return true;
      },
    );
  }));

Deno.test("SDK with a virtual key whose budget is spent gets a RateLimitError with budget_exceeded", () =>
  withGateway(async (gw) => {
    // Two answers spend $0.01701: the third request finds the $0.01 budget spent.
    const { key } = await createKey(gw, { name: "capped", budget: { usd: 0.01, period: "1d" } });
    const client = sdkClient(gw.url, key);
    const ask = () =>
      client.chat.completions.create({
        model: "alpha/gpt-4o",
        messages: [{ role: "user", content: "hi" }],
      }).withResponse();
    const first = await ask();
    assert.equal(first.response.headers.get("x-gateway-budget-remaining-usd"), "0.01");
    await ask();
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof OpenAI.RateLimitError, String(err));
      assert.equal(err.code, "budget_exceeded");
      assert.match(err.message, /key "capped" has spent \$0\.01701 of its \$0\.01 budget/);
      return true;
    });
  }));
