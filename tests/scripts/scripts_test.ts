// Runs resources/scripts/*.sh with bash and curl against a real gateway and a mock upstream.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { cleanEnv } from "../cli/cli_support.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";

const SCRIPTS = fileURLToPath(new URL("../../resources/scripts/", import.meta.url));
const KEY = "gw-scripts-key-0123456789";
/** Everything a naive `"content": "${PROMPT}"` breaks on, and what must never be expanded. */
const PROMPT = 'Say "hi" \\ then C:\\new\\table,\na second line,\tafter a tab\r\x01 $HOME `id`';

/**
 * Bash 3.2 (macOS's /bin/bash) cannot be installed here; bash 5's compat32 mode is the closest
 * stand-in for its expansion rules, without 5.2's `&` replacement, which 3.2 lacks.
 */
const SHELLS: Record<string, string[]> = {
  "bash": [],
  "bash in 3.2 compatibility mode": ["-O", "compat32", "+O", "patsub_replacement"],
};

async function run(
  script: string,
  shellArgs: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command("bash", {
    args: [...shellArgs, SCRIPTS + script],
    env: cleanEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

async function withScriptGateway(
  fn: (gw: TestGateway, upstream: MockUpstream) => Promise<void>,
): Promise<void> {
  const upstream = await startMockUpstream({
    name: "a",
    models: ["gpt-4o-mini", "text-embedding-3-small"],
  });
  const gw = await startGateway(`auth:
  enabled: true
  keys:
    - name: scripts
      key: "${KEY}"
providers:
${providerYaml("a", upstream.url)}
`);
  try {
    await fn(gw, upstream);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

const PROMPTED = [
  { script: "non_streaming_request.sh", model: "a/gpt-4o-mini", sent: "messages" },
  { script: "streaming_request.sh", model: "a/gpt-4o-mini", sent: "messages" },
  { script: "embeddings_request.sh", model: "a/text-embedding-3-small", sent: "input" },
] as const;

for (const [shell, shellArgs] of Object.entries(SHELLS)) {
  Deno.test(`the example scripts send PROMPT verbatim as JSON and exit 0 (${shell})`, async () => {
    await withScriptGateway(async (gw, upstream) => {
      const env = { GATEWAY_URL: gw.url, GATEWAY_API_KEY: KEY, PROMPT };
      for (const { script, model, sent } of PROMPTED) {
        upstream.reset();
        const result = await run(script, shellArgs, { ...env, MODEL: model });
        assert.equal(result.code, 0, `${script}: ${result.stdout}`);
        assert.equal(upstream.requests.length, 1, script);
        const body = upstream.requests[0]!.body as {
          messages?: { content: string }[];
          input?: string;
        };
        const received = sent === "input" ? body.input : body.messages?.[0]?.content;
        assert.equal(received, PROMPT, script);
      }
      await gw.server.engine.catalog.refresh();
      const models = await run("list_models.sh", shellArgs, env);
      assert.equal(models.code, 0, models.stdout);
      assert.match(models.stdout, /"a\/gpt-4o-mini"/);
    });
  });

  Deno.test(`the example scripts exit non-zero and print the error when the gateway refuses (${shell})`, async () => {
    await withScriptGateway(async (gw, upstream) => {
      const env = { GATEWAY_URL: gw.url, GATEWAY_API_KEY: KEY, PROMPT: "hi" };
      for (const { script } of PROMPTED) {
        const result = await run(script, shellArgs, { ...env, MODEL: "nowhere/model" });
        assert.notEqual(result.code, 0, `${script} succeeded: ${result.stdout}`);
        assert.match(result.stdout, /"error"/, script);
      }
      assert.equal(upstream.requests.length, 0);
      const models = await run("list_models.sh", shellArgs, { ...env, GATEWAY_API_KEY: "wrong" });
      assert.notEqual(models.code, 0, `list_models.sh succeeded: ${models.stdout}`);
      assert.match(models.stdout, /"error"/);
    });
  });
}
