import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { waitFor } from "../support/wait_for.ts";
import { startCli, withTempDir } from "./cli_support.ts";

interface Span {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP (JSON) receiver collecting the spans it is sent. */
function startCollector(): { url: string; spans: Span[]; close: () => Promise<void> } {
  const spans: Span[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json().catch(() => ({}));
    if (new URL(req.url).pathname === "/v1/traces") {
      for (const rs of body.resourceSpans ?? []) {
        for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
    }
    return Response.json({});
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, spans, close: () => server.shutdown() };
}

function attr(span: Span, key: string): unknown {
  const found = span.attributes?.find((a) => a.key === key)?.value;
  return found === undefined ? undefined : Object.values(found)[0];
}

Deno.test("with OTEL_DENO=true, each upstream attempt is a span inside the inbound request's trace", async () => {
  const collector = startCollector();
  const up = await startMockUpstream({ name: "up" });
  try {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(
        `${dir}/config.yaml`,
        `server:\n  port: 0\nproviders:\n  - name: up\n    target_url: "${up.url}"\n`,
      );
      const gw = await startCli(["--config", `${dir}/config.yaml`], {
        cwd: dir,
        env: {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_SERVICE_NAME: "llm-gateway",
        },
      });
      const res = await fetch(gw.url + "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "up/gpt-4o", messages: [{ role: "user", content: "hi" }] }),
      });
      await res.body?.cancel();
      const result = await gw.stop();
      assert.equal(result.code, 0, result.stderr);
      await waitFor(() => collector.spans.some((s) => s.name === "upstream up"), {
        timeoutMs: 10_000,
        message: "the attempt span reached the collector",
      });
      const attempt = collector.spans.find((s) => s.name === "upstream up")!;
      assert.equal(attr(attempt, "gateway.provider"), "up");
      assert.equal(attr(attempt, "gateway.model"), "gpt-4o");
      assert.equal(Number(attr(attempt, "gateway.attempt")), 1);
      assert.equal(attr(attempt, "gateway.outcome"), "success");
      const inbound = collector.spans.find((s) => s.spanId === attempt.parentSpanId);
      assert.ok(inbound, "the attempt's parent is exported too");
      assert.equal(inbound.name, "POST");
      assert.equal(inbound.traceId, attempt.traceId);
    });
  } finally {
    await up.close();
    await collector.close();
  }
});
