/**
 * The bench's baseline: the smallest useful passthrough proxy in Deno. It parses the body,
 * rewrites `model` ("mock/gpt-4o" -> "gpt-4o"), forwards it with `fetch` and returns the upstream
 * body as a stream. No routing, retries, logging, metrics or validation: what the gateway adds on
 * top of this is what the bench measures.
 *
 * Usage: `deno run -A bench/baseline.ts PORT UPSTREAM_BASE_URL`
 */
import { exitWithParent } from "./lifeline.ts";

/** Serves the passthrough on 127.0.0.1:`port`, forwarding to `upstream`. */
export function serveBaseline(port: number, upstream: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
    const body: Record<string, unknown> = await req.json();
    body.model = String(body.model).slice(String(body.model).indexOf("/") + 1);
    const res = await fetch(upstream + new URL(req.url).pathname, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const type = res.headers.get("content-type") ?? "application/json";
    return new Response(res.body, { status: res.status, headers: { "content-type": type } });
  });
}

if (import.meta.main) {
  exitWithParent();
  const server = serveBaseline(Number(Deno.args[0] ?? "0"), Deno.args[1] ?? "");
  console.error(`baseline listening on http://127.0.0.1:${server.addr.port}`);
}
