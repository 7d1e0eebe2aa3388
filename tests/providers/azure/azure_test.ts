import assert from "node:assert/strict";
import { OpenAI } from "../../support/openai.ts";
import { startGateway, type TestGateway } from "../../support/gateway.ts";
import { sdkClient } from "../../support/sdk.ts";

/** One request seen by the fake Azure resource. */
interface Seen {
  path: string;
  search: string;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A fake Azure OpenAI resource: answers in OpenAI's wire format on Azure's paths. */
function startAzure(): { url: string; seen: Seen[]; close: () => Promise<void> } {
  const seen: Seen[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const body = req.method === "POST" ? await req.json() : {};
    seen.push({ path: url.pathname, search: url.search, headers: req.headers, body });
    if (url.pathname.endsWith("/models")) {
      return Response.json({
        object: "list",
        data: [{ id: "gpt-4o-2024-08-06", object: "model" }],
      });
    }
    if (body.messages?.[0]?.content === "filtered") {
      return Response.json({
        error: {
          message:
            "The response was filtered due to the prompt triggering content management policy.",
          type: null,
          param: "prompt",
          code: "content_filter",
          status: 400,
        },
      }, { status: 400 });
    }
    if (body.stream === true) {
      const chunk = (delta: Record<string, unknown>, finish: string | null) =>
        `data: ${
          JSON.stringify({
            id: "chatcmpl-az",
            object: "chat.completion.chunk",
            created: 1,
            model: "gpt-4o",
            choices: [{ index: 0, delta, finish_reason: finish }],
          })
        }\n\n`;
      const text = chunk({ role: "assistant", content: "" }, null) +
        chunk({ content: "Hi" }, null) +
        chunk({ content: " Azure" }, null) + chunk({}, "stop") + "data: [DONE]\n\n";
      return new Response(text, { headers: { "content-type": "text/event-stream" } });
    }
    return Response.json({
      id: "chatcmpl-az",
      object: "chat.completion",
      created: 1,
      model: "gpt-4o",
      choices: [{
        index: 0,
        message: { role: "assistant", content: "Hi from Azure" },
        finish_reason: "stop",
      }],
      usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
    });
  });
  const addr = server.addr;
  return { url: `http://127.0.0.1:${addr.port}`, seen, close: () => server.shutdown() };
}

async function withAzure(
  targetSuffix: string,
  fn: (gw: TestGateway, azure: ReturnType<typeof startAzure>, client: OpenAI) => Promise<void>,
  extra = "",
): Promise<void> {
  const azure = startAzure();
  const gw = await startGateway(`providers:
  - name: az
    type: azure
    target_url: "${azure.url}${targetSuffix}"
    api_key: "az-secret"
    max_retries: 0
${extra}    deployments:
      gpt-4o: prod-gpt4o
`);
  const client = sdkClient(gw.url, "client");
  try {
    await fn(gw, azure, client);
  } finally {
    await gw.close();
    await azure.close();
  }
}

Deno.test("azure addresses a deployment with api-version and the api-key header", async () => {
  await withAzure("", async (_gw, azure, client) => {
    const reply = await client.chat.completions.create({
      model: "az/gpt-4o",
      messages: [{ role: "user", content: "hello" }],
    });
    assert.equal(reply.choices[0]!.message.content, "Hi from Azure");
    const req = azure.seen[0]!;
    assert.equal(req.path, "/openai/deployments/prod-gpt4o/chat/completions");
    assert.equal(req.search, "?api-version=2024-10-21");
    assert.equal(req.headers.get("api-key"), "az-secret");
    assert.equal(req.headers.get("authorization"), null);
  });
});

Deno.test("azure uses an unmapped model as the deployment name and a configured api_version", async () => {
  await withAzure("", async (_gw, azure, client) => {
    const emb = await client.embeddings.create({ model: "az/text-embedding-3-small", input: "x" })
      .catch((err) => err);
    // The fake answers chat-shaped JSON to every POST; only the address matters here.
    assert.ok(emb);
    assert.equal(azure.seen[0]!.path, "/openai/deployments/text-embedding-3-small/embeddings");
    assert.equal(azure.seen[0]!.search, "?api-version=2025-01-01-preview");
  }, '    api_version: "2025-01-01-preview"\n');
});

Deno.test("azure v1 form puts the deployment in the body and needs no api-version", async () => {
  await withAzure("/openai/v1", async (gw, azure, client) => {
    let text = "";
    const stream = await client.chat.completions.create({
      model: "az/gpt-4o",
      stream: true,
      messages: [{ role: "user", content: "hello" }],
    });
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    assert.equal(text, "Hi Azure");
    const req = azure.seen[0]!;
    assert.equal(req.path, "/openai/v1/chat/completions");
    assert.equal(req.search, "");
    assert.equal(req.body.model, "prod-gpt4o");
    await gw.server.engine.catalog.refresh();
    const ids = (await client.models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(ids, ["az/gpt-4o", "az/gpt-4o-2024-08-06"]);
  });
});

Deno.test("azure's deployment map is the model list of a resource URL", async () => {
  await withAzure("", async (gw, azure, client) => {
    await gw.server.engine.catalog.refresh();
    assert.deepEqual((await client.models.list()).data.map((m) => m.id), ["az/gpt-4o"]);
    assert.equal(azure.seen.length, 0, "no listing call: a resource lists base models only");
  });
});

Deno.test("an azure content-filter 400 reaches the client with Azure's message", async () => {
  await withAzure("", async (_gw, _azure, client) => {
    const err = await client.chat.completions.create({
      model: "az/gpt-4o",
      messages: [{ role: "user", content: "filtered" }],
    }).catch((e) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.code, "content_filter");
    assert.match(err.message, /content management policy/);
  });
});
