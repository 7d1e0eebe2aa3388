import assert from "node:assert/strict";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { waitFor } from "../support/wait_for.ts";
import { type RunningCli, startCli, withTempDir } from "./cli_support.ts";

function config(target: string, extra = ""): string {
  return `server:
  host: "127.0.0.1"
  port: 0
  shutdown_timeout: "10s"
${extra}providers:
  - name: up
    target_url: "${target}"
    max_retries: 0
`;
}

function chatBody(stream: boolean): string {
  return JSON.stringify({
    model: "up/gpt-4o",
    stream,
    messages: [{ role: "user", content: "hi" }],
  });
}

async function ask(gw: RunningCli): Promise<string | null> {
  const res = await fetch(gw.url + "/v1/chat/completions", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: chatBody(false),
  });
  const json = await res.json();
  return json.choices?.[0]?.message?.content ?? null;
}

function messages(gw: RunningCli): string[] {
  return gw.events().map((e) => String(e.message));
}

/** Runs `fn` against the CLI started on a config file for `target`; the process must exit 0. */
async function withCli(
  target: string,
  fn: (gw: RunningCli, path: string) => Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    const path = `${dir}/config.yaml`;
    await Deno.writeTextFile(path, config(target));
    const gw = await startCli(["--config", path], { cwd: dir });
    try {
      await fn(gw, path);
    } finally {
      const result = await gw.stop();
      assert.equal(result.code, 0, result.stderr);
    }
  });
}

Deno.test("hot reload: an open stream finishes on the old target, the next request uses the new one, an invalid edit is rejected", async () => {
  const first = await startMockUpstream({ name: "first" });
  const second = await startMockUpstream({ name: "second" });
  try {
    await withCli(first.url, async (gw, path) => {
      assert.equal(await ask(gw), "Hello from first");
      const pieces = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
      first.enqueue({ type: "stream", pieces, gapMs: 150 });
      const streaming = await fetch(gw.url + "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody(true),
      });
      let streamDone = false;
      const text = streaming.text().finally(() => streamDone = true);

      await Deno.writeTextFile(path, config(second.url));
      await waitFor(() => messages(gw).includes("configuration reloaded"), {
        timeoutMs: 5000,
        message: "the file change was picked up",
      });
      assert.equal(streamDone, false, "the stream was still open during the reload");
      assert.equal(await ask(gw), "Hello from second");
      const body = await text;
      assert.match(body, /data: \[DONE\]/, "the open stream completed");
      for (const piece of pieces) assert.match(body, new RegExp(`"${piece}"`));
      assert.doesNotMatch(body, /"error"/);

      await Deno.writeTextFile(path, config(second.url).replace("target_url", "target_ur"));
      await waitFor(
        () => messages(gw).some((m) => m.startsWith("configuration reload rejected")),
        {
          timeoutMs: 5000,
          message: "the invalid edit was reported",
        },
      );
      assert.equal(await ask(gw), "Hello from second", "the running config keeps serving");
      const info = await (await fetch(gw.url + "/v1/info")).json();
      assert.equal(info.config_generation, 2);
      const errorEvent = gw.events().find((e) =>
        String(e.message).startsWith("configuration reload rejected")
      )!;
      assert.match(
        String(errorEvent["error.message"]),
        /did you mean "target_url"\? \(.*config\.yaml:7\)/,
      );

      await Deno.writeTextFile(path, config(first.url));
      await waitFor(
        () => messages(gw).filter((m) => m === "configuration reloaded").length === 2,
        {
          timeoutMs: 5000,
        },
      );
      assert.equal(await ask(gw), "Hello from first");
      const metrics = await (await fetch(gw.url + "/metrics")).text();
      assert.match(metrics, /llm_gateway_config_reloads_total\{result="success"\} 2/);
      assert.match(metrics, /llm_gateway_config_reloads_total\{result="rejected"\} 1/);
    });
  } finally {
    await first.close();
    await second.close();
  }
});

Deno.test("SIGHUP reloads the configuration file", async () => {
  const first = await startMockUpstream({ name: "first" });
  try {
    await withCli(first.url, async (gw) => {
      assert.equal(await ask(gw), "Hello from first");
      gw.signal("SIGHUP");
      await waitFor(() => gw.events().some((e) => e["gateway.reload.reason"] === "SIGHUP"), {
        timeoutMs: 5000,
        message: "SIGHUP triggered a reload",
      });
    });
  } finally {
    await first.close();
  }
});

Deno.test("SIGTERM during an open stream: the stream completes and the process exits 0", async () => {
  const up = await startMockUpstream({ name: "up" });
  try {
    await withTempDir(async (dir) => {
      const path = `${dir}/config.yaml`;
      await Deno.writeTextFile(path, config(up.url));
      const gw = await startCli(["--config", path], { cwd: dir });
      up.enqueue({ type: "stream", pieces: ["one", "two", "three", "four"], gapMs: 200 });
      const res = await fetch(gw.url + "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: chatBody(true),
      });
      const reader = res.body!.getReader();
      await reader.read();
      const stopped = gw.stop("SIGTERM");
      let body = "";
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        body += decoder.decode(value, { stream: true });
      }
      const result = await stopped;
      assert.equal(result.code, 0, result.stderr);
      assert.match(body, /"four"/);
      assert.match(body, /data: \[DONE\]/, "the stream completed during the drain");
      assert.match(result.stdout, /shutting down/);
      // A request after the signal is refused: the listener is closed.
      const late = await fetch(gw.url + "/v1/info").catch((e) => e);
      assert.ok(late instanceof Error);
    });
  } finally {
    await up.close();
  }
});
