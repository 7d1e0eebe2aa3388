// Client connections: head and idle timeouts, the connection cap, and running out of descriptors.
import assert from "node:assert/strict";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { startCli, withTempDir } from "../cli/cli_support.ts";

const encoder = new TextEncoder();

function limitsYaml(extra = "", headerTimeout = "300ms"): string {
  return `server:
  header_timeout: "${headerTimeout}"
  idle_timeout: "400ms"
  body_timeout: "300ms"
${extra}`;
}

async function connect(gw: { url: string }): Promise<Deno.TcpConn> {
  const { hostname, port } = new URL(gw.url);
  return await Deno.connect({ hostname, port: Number(port) });
}

/** Reads until the peer closes; returns what was read and how long the close took. */
async function readUntilClosed(
  conn: Deno.Conn,
  timeoutMs: number,
): Promise<{ text: string; closed: boolean; ms: number }> {
  const started = performance.now();
  const buffer = new Uint8Array(16 * 1024);
  let text = "";
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) return { text, closed: true, ms: performance.now() - started };
      text += new TextDecoder().decode(buffer.subarray(0, n));
    }
  } catch {
    // Reset by the peer counts as closed; our own timer's close does not.
    const ms = performance.now() - started;
    return { text, closed: ms < timeoutMs, ms };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}

/** Runs `fn` against a gateway with the short limits and one mock provider `a`. */
async function withUpstream(
  fn: (gw: TestGateway, upstream: MockUpstream) => Promise<void>,
): Promise<void> {
  const upstream = await startMockUpstream({ name: "a", models: ["m"] });
  const gw = await startGateway(limitsYaml(`providers:\n${providerYaml("a", upstream.url)}\n`));
  try {
    await fn(gw, upstream);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

async function withLimited(
  extra: string,
  fn: (gw: TestGateway) => Promise<void>,
  headerTimeout?: string,
): Promise<void> {
  const gw = await startGateway(limitsYaml(extra, headerTimeout));
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

Deno.test("a connection that never sends a request is closed after server.header_timeout", async () => {
  await withLimited("", async (gw) => {
    const result = await readUntilClosed(await connect(gw), 5_000);
    assert.equal(result.closed, true, "the gateway kept an idle connection open for 5 s");
    assert.equal(result.text, "");
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, /^llm_gateway_connection_events_total\{event="header_timeout"\} 1$/m);
    assert.match(metrics, /^llm_gateway_open_connections 1$/m);
  });
});

Deno.test("a request head trickled one line at a time is cut off by server.header_timeout", async () => {
  await withLimited("", async (gw) => {
    const conn = await connect(gw);
    await conn.write(encoder.encode("GET /v1/info HTTP/1.1\r\nhost: x\r\n"));
    let sent = 0;
    const trickle = (async () => {
      try {
        for (; sent < 50; sent++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          await conn.write(encoder.encode(`x-slow-${sent}: 1\r\n`));
        }
      } catch {
        // The gateway closed the connection: the point of the test.
      }
    })();
    const result = await readUntilClosed(conn, 6_000);
    await trickle;
    assert.equal(result.closed, true, "a head trickled for 5 s was never cut off");
    assert.ok(sent < 50, `all ${sent} header lines were accepted`);
  });
});

Deno.test("a keep-alive connection idle after its answer is closed after server.idle_timeout", async () => {
  await withLimited("", async (gw) => {
    const conn = await connect(gw);
    await conn.write(encoder.encode("GET /v1/info HTTP/1.1\r\nhost: x\r\n\r\n"));
    const result = await readUntilClosed(conn, 5_000);
    assert.match(result.text, /^HTTP\/1\.1 200/);
    assert.equal(result.closed, true, "the idle keep-alive connection stayed open for 5 s");
  });
});

for (const [label, padding] of [["large", 100_000], ["small", 10]] as const) {
  Deno.test(`a ${label} request body trickled byte by byte gets 408 after server.body_timeout`, async () => {
    await withUpstream(async (gw, upstream) => {
      const conn = await connect(gw);
      const body = JSON.stringify({ model: "a/m", messages: [{ role: "user", content: "hi" }] });
      await conn.write(encoder.encode(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n" +
          `content-length: ${body.length + padding}\r\n\r\n${body.slice(0, 5)}`,
      ));
      const trickle = (async () => {
        try {
          for (let i = 5; i < body.length; i++) {
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            await conn.write(encoder.encode(body[i]!));
          }
        } catch {
          // Closed by the gateway.
        }
      })();
      const result = await readUntilClosed(conn, 8_000);
      await trickle.catch(() => {});
      assert.match(result.text, /^HTTP\/1\.1 408/);
      assert.match(result.text, /server\.body_timeout/);
      assert.equal(upstream.requests.length, 0);
    });
  });
}

Deno.test("a stream that outlasts server.idle_timeout is not cut as idle", async () => {
  await withUpstream(async (gw, upstream) => {
    upstream.enqueue({ type: "stream", pieces: ["a", "b", "c", "d", "e", "f"], gapMs: 200 });
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "a/m",
        stream: true,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /data: \[DONE\]/);
  });
});

Deno.test("beyond server.max_connections a new connection gets 503 and is closed", async () => {
  await withLimited(
    `  max_connections: 3
`,
    async (gw) => {
      const held = await Promise.all([connect(gw), connect(gw), connect(gw)]);
      try {
        // The three are fresh, so none may be closed to make room: the fourth is refused.
        const fourth = await readUntilClosed(await connect(gw), 3_000);
        assert.equal(fourth.closed, true);
        assert.match(fourth.text, /^HTTP\/1\.1 503/);
        assert.match(fourth.text, /server\.max_connections/);
        // Once they have sat idle a while, the longest-idle one makes room for a new client.
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        const fifth = await connect(gw);
        await fifth.write(
          encoder.encode("GET /v1/info HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"),
        );
        const answer = await readUntilClosed(fifth, 3_000);
        assert.match(answer.text, /^HTTP\/1\.1 200/);
      } finally {
        for (const conn of held) {
          try {
            conn.close();
          } catch {
            // Closed by the gateway to make room.
          }
        }
      }
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      assert.match(metrics, /^llm_gateway_connection_events_total\{event="refused"\} 1$/m);
      assert.match(metrics, /^llm_gateway_connection_events_total\{event="evicted"\} 1$/m);
    },
    "30s",
  );
});

Deno.test({
  name: "out of file descriptors, the gateway keeps running and answers /v1/info again",
  ignore: Deno.build.os !== "linux",
  async fn() {
    await withTempDir(async (dir) => {
      const config = `${dir}/config.yaml`;
      await Deno.writeTextFile(
        config,
        `server:\n  host: "127.0.0.1"\n  port: 0\n  max_connections: 100000\n`,
      );
      const cli = await startCli(["--config", config], { cwd: dir, openFileLimit: 256 });
      const { hostname, port } = new URL(cli.url);
      const idle: Deno.Conn[] = [];
      try {
        // More idle connections than the process has descriptors.
        for (let i = 0; i < 300; i++) {
          idle.push(await Deno.connect({ hostname, port: Number(port) }));
        }
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        const started = performance.now();
        let status = 0;
        while (status !== 200 && performance.now() - started < 15_000) {
          try {
            const res = await fetch(`${cli.url}/v1/info`, { signal: AbortSignal.timeout(3_000) });
            status = res.status;
            await res.body?.cancel();
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
        assert.equal(status, 200, "/v1/info was not answered while descriptors ran out");
      } finally {
        for (const conn of idle) {
          try {
            conn.close();
          } catch {
            // Closed by the gateway.
          }
        }
      }
      const result = await cli.stop();
      const events = result.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
        JSON.parse(l) as Record<string, unknown>
      );
      const failures = events.filter((e) => String(e.message).startsWith("accepting a connection"));
      assert.ok(failures.length >= 1, "the accept failure was not logged");
      assert.ok(failures.length <= 3, `the accept failure was logged ${failures.length} times`);
      assert.equal(result.code, 0, `the gateway did not exit cleanly:\n${result.stderr}`);
    });
  },
});
