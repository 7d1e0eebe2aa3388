// The HTTP/1.1 client against a real nginx: chunked bodies, keep-alive expiry, `Connection: close`,
// content codings and TLS, as a server on the wire does them rather than as a mock imitates them.
import assert from "node:assert/strict";
import { ProviderError } from "../../src/core/errors.ts";
import { Http1Client, type Http1Init } from "../../src/providers/http1/client.ts";
import { HttpProtocolError } from "../../src/providers/http1/head.ts";
import { undecodableAnswer } from "../../src/providers/upstream_client.ts";
import { SKIP_NGINX, startNginx, type StartNginxOptions } from "../support/nginx_server.ts";
import { freePort } from "../support/redis_server.ts";
import { hasCommand, makeCertificate } from "../support/test_certificate.ts";
import { settles } from "../support/wait_for.ts";

const decoder = new TextDecoder();

/** Answers with nginx's serial number of the connection and the request's number on it. */
const CONNECTION = `location = /connection {
      default_type text/plain;
      return 200 "$connection $connection_requests";
    }`;

/** A document large enough for nginx to send in many chunks. */
const DOCUMENT = Array.from({ length: 8000 }, (_, i) => `line ${i} of the document\n`).join("");
const JSON_TEXT = JSON.stringify({ text: "compressible ".repeat(200) });

function get(headers: Record<string, string> = {}): Http1Init {
  return { method: "GET", headers, signal: new AbortController().signal };
}

/** Runs `fn` against an nginx serving files from a fresh directory (`DOCUMENT` and `JSON_TEXT`). */
async function withNginx(
  options: (root: string) => StartNginxOptions,
  fn: (url: string, client: Http1Client) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "gateway-http1-nginx-" });
  await Deno.writeTextFile(`${root}/document.txt`, DOCUMENT);
  await Deno.writeTextFile(`${root}/data.json`, JSON_TEXT);
  const gzipped = new Response(
    new Blob([JSON_TEXT]).stream().pipeThrough(new CompressionStream("gzip")),
  );
  await Deno.writeFile(`${root}/data.json.gz`, await gzipped.bytes());
  const nginx = await startNginx(options(root));
  const client = new Http1Client();
  try {
    await fn(nginx.url, client);
  } finally {
    client.close();
    await nginx.stop();
    await Deno.remove(root, { recursive: true });
  }
}

/** nginx's connection number and the request's number on that connection. */
async function connection(client: Http1Client, url: string): Promise<[number, number]> {
  const response = await client.request(`${url}/connection`, get());
  const [serial, requests] = (await response.text()).split(" ").map(Number);
  return [serial!, requests!];
}

Deno.test({
  name: "a chunked body from nginx is read whole and chunk by chunk, and the connection is reused",
  ignore: SKIP_NGINX,
  async fn() {
    await withNginx((root) => ({
      server: `root ${root};
    ${CONNECTION}
    location = /document.txt { ssi on; ssi_types *; }`,
    }), async (url, client) => {
      const [serial] = await connection(client, url);
      const whole = await client.request(`${url}/document.txt`, get());
      assert.equal(whole.header("transfer-encoding"), "chunked");
      assert.equal(await whole.text(), DOCUMENT);

      const piecewise = await client.request(`${url}/document.txt`, get());
      const chunks = piecewise.chunks();
      let text = "";
      let pieces = 0;
      for (let read = await chunks.read(); !read.done; read = await chunks.read()) {
        text += decoder.decode(read.value, { stream: true });
        pieces++;
      }
      assert.equal(text + decoder.decode(), DOCUMENT);
      assert.ok(pieces > 1, `${pieces} chunk(s)`);
      assert.deepEqual(await connection(client, url), [serial, 4]);
    });
  },
});

Deno.test({
  name: "a stream nginx relays unbuffered reaches the client event by event",
  ignore: SKIP_NGINX,
  async fn() {
    const encoder = new TextEncoder();
    let release!: () => void;
    const released = new Promise<void>((resolve) => release = resolve);
    const upstream = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response(
          new ReadableStream({
            async start(controller) {
              controller.enqueue(encoder.encode("data: 1\n\n"));
              await released;
              controller.enqueue(encoder.encode("data: 2\n\n"));
              controller.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        ),
    );
    try {
      await withNginx(() => ({
        server: `location / {
      proxy_pass http://127.0.0.1:${upstream.addr.port};
      proxy_http_version 1.1;
      proxy_buffering off;
    }`,
      }), async (url, client) => {
        const response = await client.request(`${url}/events`, get());
        assert.equal(response.header("transfer-encoding"), "chunked");
        const chunks = response.chunks();
        // The upstream sends the second event only after this: the first must come on its own.
        const first = await settles(chunks.read(), "the first event");
        assert.equal(decoder.decode(first.value), "data: 1\n\n");
        release();
        let rest = "";
        for (let read = await chunks.read(); !read.done; read = await chunks.read()) {
          rest += decoder.decode(read.value);
        }
        assert.equal(rest, "data: 2\n\n");
      });
    } finally {
      release();
      await upstream.shutdown();
    }
  },
});

Deno.test({
  name:
    "after nginx's keepalive_timeout closed the idle connection, the next request goes out on a fresh one",
  ignore: SKIP_NGINX,
  async fn() {
    await withNginx(
      () => ({ http: "keepalive_timeout 1s;", server: CONNECTION }),
      async (url, client) => {
        const [serial] = await connection(client, url);
        assert.deepEqual(await connection(client, url), [serial, 2]);
        await new Promise((resolve) => setTimeout(resolve, 1_300));
        const [fresh, requests] = await connection(client, url);
        assert.notEqual(fresh, serial);
        assert.equal(requests, 1);
      },
    );
  },
});

Deno.test({
  name: "nginx's Keep-Alive: timeout=1 keeps the connection pooled for less than a second",
  ignore: SKIP_NGINX,
  async fn() {
    // nginx itself would keep the connection 10 s; it announces 1 s.
    await withNginx(
      () => ({ http: "keepalive_timeout 10s 1s;", server: CONNECTION }),
      async (url, client) => {
        const response = await client.request(`${url}/connection`, get());
        assert.equal(response.header("keep-alive"), "timeout=1");
        const [serial] = (await response.text()).split(" ").map(Number);
        await new Promise((resolve) => setTimeout(resolve, 700));
        const [fresh, requests] = await connection(client, url);
        assert.notEqual(fresh, serial);
        assert.equal(requests, 1);
      },
    );
  },
});

Deno.test({
  name: "Connection: close from nginx is honoured: the next request opens a new connection",
  ignore: SKIP_NGINX,
  async fn() {
    // nginx closes a connection after its second request, saying so on that answer.
    await withNginx(
      () => ({ http: "keepalive_requests 2;", server: CONNECTION }),
      async (url, client) => {
        const [serial] = await connection(client, url);
        const second = await client.request(`${url}/connection`, get());
        assert.equal(second.header("connection"), "close");
        assert.equal(await second.text(), `${serial} 2`);
        const [fresh, requests] = await connection(client, url);
        assert.notEqual(fresh, serial);
        assert.equal(requests, 1);
      },
    );
  },
});

Deno.test({
  name: "with gzip on, nginx answers the client's identity request uncompressed",
  ignore: SKIP_NGINX,
  async fn() {
    await withNginx((root) => ({
      http: "gzip on; gzip_types *; gzip_min_length 1;",
      server: `root ${root};`,
    }), async (url, client) => {
      // The same request asking for gzip is compressed: the setting is in force.
      const raw = await Deno.connect({ hostname: "127.0.0.1", port: Number(new URL(url).port) });
      await raw.write(new TextEncoder().encode(
        "GET /document.txt HTTP/1.1\r\nhost: nginx\r\naccept-encoding: gzip\r\nconnection: close\r\n\r\n",
      ));
      const head = new Uint8Array(4096);
      const n = await raw.read(head);
      raw.close();
      assert.match(decoder.decode(head.subarray(0, n ?? 0)), /\r\ncontent-encoding: gzip\r\n/i);

      // A caller's accept-encoding is replaced by the client's own `identity`.
      const response = await client.request(
        `${url}/document.txt`,
        get({ "accept-encoding": "gzip" }),
      );
      assert.equal(response.header("content-encoding"), null);
      assert.equal(await response.text(), DOCUMENT);
    });
  },
});

Deno.test({
  name:
    "a body nginx compresses regardless (gzip_static always) is decoded, without its encoding fields",
  ignore: SKIP_NGINX,
  async fn() {
    await withNginx((root) => ({
      server: `root ${root};
    ${CONNECTION}
    location = /data.json { gzip_static always; }`,
    }), async (url, client) => {
      const [serial] = await connection(client, url);
      const response = await client.request(`${url}/data.json`, get());
      assert.equal(response.header("content-encoding"), null);
      assert.equal(response.header("content-length"), null);
      assert.equal(await response.text(), JSON_TEXT);
      assert.deepEqual(await connection(client, url), [serial, 3]);
    });
  },
});

Deno.test({
  name: "a body in a coding the client cannot decode is refused with the documented errors",
  ignore: SKIP_NGINX,
  async fn() {
    await withNginx(() => ({
      server: `${CONNECTION}
    location = /zstd {
      default_type application/json;
      add_header Content-Encoding zstd;
      return 200 '{"ok":true}';
    }`,
    }), async (url, client) => {
      await assert.rejects(
        client.request(`${url}/zstd`, get()),
        new HttpProtocolError("answered with content-encoding zstd"),
      );
      const gateway = new Http1Client({ undecodable: undecodableAnswer });
      try {
        await assert.rejects(gateway.request(`${url}/zstd`, get()), (err) => {
          assert.ok(err instanceof ProviderError);
          assert.equal(
            err.detail,
            'upstream answered with content-encoding "zstd", which the gateway cannot decode',
          );
          assert.equal(err.countsAgainstBreaker, false);
          return true;
        });
      } finally {
        gateway.close();
      }
      // The refused answer's connection was dropped; the next request opens another.
      assert.equal((await connection(client, url))[1], 1);
    });
  },
});

const OPENSSL = await hasCommand("openssl", ["version"]);

Deno.test({
  name: "over TLS to nginx the client trusts Deno's roots with DENO_CERT, as fetch does, and pools",
  ignore: SKIP_NGINX || !OPENSSL,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "gateway-http1-tls-" });
    const tlsPort = freePort();
    try {
      const files = await makeCertificate(dir, "nginx");
      await withNginx(() => ({
        http: `server {
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${files.cert};
    ssl_certificate_key ${files.key};
    ${CONNECTION}
  }`,
        server: CONNECTION,
      }), async (_url, client) => {
        const url = `https://127.0.0.1:${tlsPort}/connection`;
        // This process was started without DENO_CERT: the test authority is not trusted.
        await assert.rejects(client.request(url, get()), /certificate/);
        const script = `
          import { Http1Client } from ${
          JSON.stringify(import.meta.resolve("../../src/providers/http1/client.ts"))
        };
          const client = new Http1Client();
          const get = () => ({ method: "GET", headers: {}, signal: new AbortController().signal });
          const answers = [];
          for (let i = 0; i < 2; i++) answers.push(await (await client.request(${
          JSON.stringify(url)
        }, get())).text());
          client.close();
          console.log(JSON.stringify(answers));
        `;
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["eval", script],
          env: { DENO_CERT: files.ca },
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.ok(out.success, decoder.decode(out.stderr));
        const [first, second] = JSON.parse(decoder.decode(out.stdout)) as string[];
        const serial = first!.split(" ")[0];
        assert.equal(first, `${serial} 1`);
        assert.equal(second, `${serial} 2`, "the TLS connection is reused");
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
