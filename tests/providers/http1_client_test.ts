import assert from "node:assert/strict";
import zlib from "node:zlib";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  Http1Client,
  type Http1ClientOptions,
  MAX_IDLE_PER_ORIGIN,
} from "../../src/providers/http1/client.ts";
import { HttpProtocolError } from "../../src/providers/http1/head.ts";
import type { BodyChunks, Http1Response } from "../../src/providers/http1/response.ts";
import { settles } from "../support/wait_for.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

// ---------------------------------------------------------------------------------------------
// A scripted raw-TCP HTTP/1.1 server: each accepted connection runs the test's handler, which
// reads requests and writes hand-crafted response bytes.

/** One request as the server received it. */
interface CapturedRequest {
  /** Index of the connection it arrived on (0 for the first accepted connection). */
  connection: number;
  requestLine: string;
  /** Header fields in wire order, names as sent. */
  headers: [string, string][];
  body: Uint8Array;
  /** The exact request bytes: head, blank line and body. */
  raw: Uint8Array;
}

class ServerConn {
  readonly index: number;
  #tcp: Deno.Conn;
  #pending: Uint8Array = new Uint8Array(0);
  #requests: CapturedRequest[];
  #closed = false;

  constructor(tcp: Deno.Conn, index: number, requests: CapturedRequest[]) {
    this.#tcp = tcp;
    this.index = index;
    this.#requests = requests;
  }

  /** Reads the next request (head and content-length body); null when the client closed first. */
  async readRequest(): Promise<CapturedRequest | null> {
    let end = indexOfBlankLine(this.#pending);
    while (end === -1) {
      if (!(await this.#read())) {
        if (this.#pending.length === 0) return null;
        throw new Error("client closed the connection mid-request");
      }
      end = indexOfBlankLine(this.#pending);
    }
    const [requestLine = "", ...lines] = decoder.decode(this.#pending.subarray(0, end)).split(
      "\r\n",
    );
    const headers = lines.map((line): [string, string] => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const lengthField = headers.find(([name]) => name.toLowerCase() === "content-length");
    const total = end + 4 + Number(lengthField?.[1] ?? 0);
    while (this.#pending.length < total) {
      if (!(await this.#read())) throw new Error("client closed the connection mid-body");
    }
    const request: CapturedRequest = {
      connection: this.index,
      requestLine,
      headers,
      body: this.#pending.slice(end + 4, total),
      raw: this.#pending.slice(0, total),
    };
    this.#pending = this.#pending.slice(total);
    this.#requests.push(request);
    return request;
  }

  /** Reads and discards until the client closes the connection. */
  async waitForClose(): Promise<void> {
    while (await this.#read()) this.#pending = new Uint8Array(0);
  }

  async write(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    let written = 0;
    while (written < bytes.length) written += await this.#tcp.write(bytes.subarray(written));
  }

  /** Writes `data` in pieces of `step` bytes, yielding to the event loop between them. */
  async writeSlowly(data: string | Uint8Array, step = 1): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let i = 0; i < bytes.length; i += step) {
      await this.write(bytes.subarray(i, i + step));
      await pause();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#tcp.close();
    } catch {
      // Already closed.
    }
  }

  async #read(): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let n: number | null;
    try {
      n = await this.#tcp.read(chunk);
    } catch (err) {
      // A client closing with unread bytes resets the connection: that is a close too.
      if (err instanceof Deno.errors.ConnectionReset) return false;
      throw err;
    }
    if (n === null) return false;
    const grown = new Uint8Array(this.#pending.length + n);
    grown.set(this.#pending);
    grown.set(chunk.subarray(0, n), this.#pending.length);
    this.#pending = grown;
    return true;
  }
}

type Handler = (conn: ServerConn) => Promise<void>;

class ScriptedServer {
  /** Connections accepted so far. */
  connections = 0;
  /** Requests read by the handlers, in arrival order. */
  readonly requests: CapturedRequest[] = [];
  readonly port: number;
  #listener: Deno.TcpListener;
  #open = new Set<ServerConn>();
  #tasks: Promise<void>[] = [];
  #errors: unknown[] = [];
  #closing = false;
  #acceptLoop: Promise<void>;

  constructor(handler: Handler) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#acceptLoop = this.#accept(handler);
  }

  url(path = "/"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  /** Stops accepting, closes every connection and waits for the handlers to finish. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#listener.close();
    await this.#acceptLoop;
    for (const conn of this.#open) conn.close();
    await Promise.all(this.#tasks);
  }

  /** Fails the test with the first error a handler threw before the server was closed. */
  assertHandlersSucceeded(): void {
    if (this.#errors.length > 0) throw this.#errors[0];
  }

  async #accept(handler: Handler): Promise<void> {
    for (;;) {
      let tcp: Deno.TcpConn;
      try {
        tcp = await this.#listener.accept();
      } catch {
        return; // The listener was closed.
      }
      tcp.setNoDelay(true);
      const conn = new ServerConn(tcp, this.connections++, this.requests);
      this.#open.add(conn);
      this.#tasks.push(
        handler(conn)
          .catch((err) => {
            if (!this.#closing) this.#errors.push(err);
          })
          .finally(() => {
            conn.close();
            this.#open.delete(conn);
          }),
      );
    }
  }
}

/** Gates a handler waits on; all are opened when the test ends, so no handler is left waiting. */
const openGates = new Set<PromiseWithResolvers<void>>();

/** A promise the test resolves to let a handler go on (e.g. "the client has read chunk 1"). */
function gate(): PromiseWithResolvers<void> {
  const gate = Promise.withResolvers<void>();
  openGates.add(gate);
  gate.promise.then(() => openGates.delete(gate));
  return gate;
}

/**
 * A test that deadlocks (the client waiting for bytes the server will never send) fails after
 * this long instead of hanging the run. Not a timing assertion: real runs take milliseconds.
 */
const DEADLOCK_LIMIT_MS = 20_000;

/** Runs `body` against a fresh server and client, then closes both (even when `body` fails). */
async function withServer(
  handler: Handler,
  body: (server: ScriptedServer, client: Http1Client) => Promise<void>,
  options: Http1ClientOptions = {},
): Promise<void> {
  const server = new ScriptedServer(handler);
  const client = new Http1Client(options);
  try {
    await settles(body(server, client), "the test", DEADLOCK_LIMIT_MS);
  } finally {
    client.close();
    for (const gate of openGates) gate.resolve();
    await server.close();
  }
  server.assertHandlersSucceeded();
}

/** A handler answering every request on its connection with `respond(request, n)`. */
function serveAll(respond: (request: CapturedRequest, n: number) => string | Uint8Array): Handler {
  let n = 0;
  return async (conn) => {
    for (
      let request = await conn.readRequest();
      request !== null;
      request = await conn.readRequest()
    ) {
      await conn.write(respond(request, n++));
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

function pause(ms = 1): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Each character as one byte (ISO-8859-1), for header bytes that are not UTF-8. */
function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (char) => char.charCodeAt(0));
}

/** Reads a body stream to its end with a reader loop; returns every chunk it delivered. */
async function readChunks(body: ReadableStream<Uint8Array> | null): Promise<Uint8Array[]> {
  assert.ok(body !== null, "response has a body stream");
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    assert.ok(value.length > 0, "no empty chunks");
    chunks.push(value);
  }
  reader.releaseLock();
  return chunks;
}

async function streamText(response: Http1Response): Promise<string> {
  return decoder.decode(concat(await readChunks(response.body)));
}

function get(signal = new AbortController().signal) {
  return { method: "GET", headers: {}, signal };
}

/** GETs the server's root and reads the whole body as text. */
async function getText(client: Http1Client, server: ScriptedServer): Promise<string> {
  return await (await client.request(server.url(), get())).text();
}

function header(request: CapturedRequest | undefined, name: string): string[] {
  assert.ok(request !== undefined, "request was received");
  return request.headers.filter(([field]) => field === name).map(([, value]) => value);
}

function isProtocolError(pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof HttpProtocolError, `expected HttpProtocolError, got ${err}`);
    assert.match(err.message, pattern);
    return true;
  };
}

// A body with multi-byte UTF-8 characters, so byte and character counts differ.
const UNICODE_BODY = "h\u00e9llo w\u00f6rld \u2713 \u{1f600}";

// ---------------------------------------------------------------------------------------------
// Content-length bodies

Deno.test("a content-length body reads the same through bytes(), text() and the body stream", async () => {
  const bodyBytes = encoder.encode(UNICODE_BODY);
  const response = concat([
    encoder.encode(
      `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${bodyBytes.length}\r\n\r\n`,
    ),
    bodyBytes,
  ]);
  await withServer(serveAll(() => response), async (server, client) => {
    const viaBytes = await client.request(server.url(), get());
    assert.equal(viaBytes.status, 200);
    assert.equal(viaBytes.ok, true);
    assert.equal(viaBytes.headers.get("content-type"), "text/plain");
    assert.deepEqual(await viaBytes.bytes(), bodyBytes);

    const viaText = await client.request(server.url(), get());
    assert.equal(await viaText.text(), UNICODE_BODY);

    const viaStream = await client.request(server.url(), get());
    assert.deepEqual(concat(await readChunks(viaStream.body)), bodyBytes);
    assert.equal(server.connections, 1);
  });
});

Deno.test("a large content-length body arrives whole through bytes() and the body stream", async () => {
  const bodyBytes = new Uint8Array(300_000).map((_, i) => (i * 7 + (i >> 8)) & 0xff);
  const response = concat([
    encoder.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${bodyBytes.length}\r\n\r\n`),
    bodyBytes,
  ]);
  await withServer(serveAll(() => response), async (server, client) => {
    const whole = await client.request(server.url(), get());
    assert.deepEqual(await whole.bytes(), bodyBytes);
    const streamed = await client.request(server.url(), get());
    const chunks = await readChunks(streamed.body);
    assert.deepEqual(concat(chunks), bodyBytes);
    assert.equal(server.connections, 1);
  });
});

Deno.test("a content-length response sent one byte at a time is read correctly", async () => {
  const response = "HTTP/1.1 200 OK\r\nx-a: 1\r\ncontent-length: 11\r\n\r\nhello world";
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.writeSlowly(response);
    await conn.readRequest();
    await conn.writeSlowly(response);
  }, async (server, client) => {
    const first = await client.request(server.url(), get());
    assert.equal(first.headers.get("x-a"), "1");
    assert.equal(await first.text(), "hello world");
    const second = await client.request(server.url(), get());
    assert.equal(await streamText(second), "hello world");
  });
});

Deno.test("an empty content-length body reads as empty and keeps the connection", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      const first = await client.request(server.url(), get());
      assert.deepEqual(await first.bytes(), new Uint8Array(0));
      const second = await client.request(server.url(), get());
      assert.deepEqual(await readChunks(second.body), []);
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("reading a body twice rejects with a TypeError", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const first = await client.request(server.url(), get());
      assert.equal(await first.text(), "ok");
      await assert.rejects(first.text(), TypeError);
      await assert.rejects(first.bytes(), TypeError);
      await assert.rejects(first.body!.getReader().read(), TypeError);

      const second = await client.request(server.url(), get());
      assert.equal(await streamText(second), "ok");
      await assert.rejects(second.bytes(), TypeError);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Chunked bodies

const CHUNKED_HEAD = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n";
/** "hello, chunked world" with an extension, a quoted extension, upper-case hex and trailers. */
const CHUNKED_RESPONSE = CHUNKED_HEAD +
  "5;foo=bar\r\nhello\r\n" +
  "2\r\n, \r\n" +
  '7;name="quoted;value"\r\nchunked\r\n' +
  "A\r\n wide worl\r\n" +
  "1\r\nd\r\n" +
  "0;end\r\nx-trailer: yes\r\nx-other: 2\r\n\r\n";
const CHUNKED_TEXT = "hello, chunked wide world";

Deno.test("a chunked body is reassembled through bytes(), text() and the body stream", async () => {
  await withServer(serveAll(() => CHUNKED_RESPONSE), async (server, client) => {
    const viaBytes = await client.request(server.url(), get());
    assert.deepEqual(await viaBytes.bytes(), encoder.encode(CHUNKED_TEXT));
    const viaText = await client.request(server.url(), get());
    assert.equal(await viaText.text(), CHUNKED_TEXT);
    const viaStream = await client.request(server.url(), get());
    assert.equal(await streamText(viaStream), CHUNKED_TEXT);
    // Trailers are consumed: the connection carried all three responses.
    assert.equal(server.connections, 1);
    assert.equal(server.requests.length, 3);
  });
});

Deno.test("a chunked response sent one byte at a time is reassembled", async () => {
  await withServer(async (conn) => {
    for (let i = 0; i < 2; i++) {
      await conn.readRequest();
      await conn.writeSlowly(CHUNKED_RESPONSE);
    }
  }, async (server, client) => {
    const viaText = await client.request(server.url(), get());
    assert.equal(await viaText.text(), CHUNKED_TEXT);
    const viaStream = await client.request(server.url(), get());
    assert.equal(await streamText(viaStream), CHUNKED_TEXT);
    assert.equal(server.connections, 1);
  });
});

Deno.test("a chunked response split in two at every byte boundary is reassembled", async () => {
  const bytes = encoder.encode(CHUNKED_RESPONSE);
  await withServer(async (conn) => {
    for (let split = 1; split < bytes.length; split++) {
      await conn.readRequest();
      await conn.write(bytes.subarray(0, split));
      await pause();
      await conn.write(bytes.subarray(split));
    }
  }, async (server, client) => {
    for (let split = 1; split < bytes.length; split++) {
      const response = await client.request(server.url(), get());
      const text = split % 2 === 0 ? await response.text() : await streamText(response);
      assert.equal(text, CHUNKED_TEXT, `split at byte ${split}`);
    }
    assert.equal(server.connections, 1);
  });
});

// Each chunk reaches the reader before the server sends the next, through the body stream and
// through chunks() alike.
const CHUNK_READERS = [
  {
    name: "a chunked body streams each chunk before the server sends the next",
    open: (response: Http1Response) => response.body!.getReader(),
  },
  {
    name: "chunks() delivers each chunk before the server sends the next",
    open: (response: Http1Response) => response.chunks(),
  },
];
for (const { name, open } of CHUNK_READERS) {
  Deno.test(name, async () => {
    const readFirst = gate();
    await withServer(async (conn) => {
      await conn.readRequest();
      await conn.write(CHUNKED_HEAD + "5\r\nhello\r\n");
      // Nothing more is sent until the client has seen the first chunk.
      await readFirst.promise;
      await conn.write("6\r\n world\r\n0\r\n\r\n");
    }, async (server, client) => {
      const reader = open(await client.request(server.url(), get()));
      const first = await settles(reader.read(), "the first chunk");
      assert.equal(first.done, false);
      assert.equal(decoder.decode(first.value), "hello");
      readFirst.resolve();
      let rest = "";
      for (let part = await reader.read(); !part.done; part = await reader.read()) {
        assert.ok(part.value.length > 0, "no empty chunks");
        rest += decoder.decode(part.value);
      }
      assert.equal(rest, " world");
    });
  });
}

Deno.test("a content-length body streams its first bytes before the rest is sent", async () => {
  const readFirst = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
    await readFirst.promise;
    await conn.write("world");
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    const reader = response.body!.getReader();
    const first = await settles(reader.read(), "the first bytes");
    assert.equal(decoder.decode(first.value), "hello");
    readFirst.resolve();
    const second = await reader.read();
    assert.equal(decoder.decode(second.value), "world");
    assert.equal((await reader.read()).done, true);
  });
});

Deno.test("a chunked body with large chunks is reassembled", async () => {
  const parts = [70_000, 1, 20_000, 100_000].map((size, n) =>
    new Uint8Array(size).map((_, i) => (i + n * 31) & 0xff)
  );
  const response = concat([
    encoder.encode(CHUNKED_HEAD),
    ...parts.flatMap((part) => [
      encoder.encode(`${part.length.toString(16)}\r\n`),
      part,
      encoder.encode("\r\n"),
    ]),
    encoder.encode("0\r\n\r\n"),
  ]);
  await withServer(serveAll(() => response), async (server, client) => {
    const whole = await client.request(server.url(), get());
    assert.deepEqual(await whole.bytes(), concat(parts));
    const streamed = await client.request(server.url(), get());
    assert.deepEqual(concat(await readChunks(streamed.body)), concat(parts));
    assert.equal(server.connections, 1);
  });
});

Deno.test("text() decodes a multi-byte character split across chunks", async () => {
  const bytes = encoder.encode("\u2713\u{1f600}");
  const response = concat([
    encoder.encode(CHUNKED_HEAD + "2\r\n"),
    bytes.subarray(0, 2),
    encoder.encode("\r\n5\r\n"),
    bytes.subarray(2),
    encoder.encode("\r\n0\r\n\r\n"),
  ]);
  await withServer(serveAll(() => response), async (server, client) => {
    const response = await client.request(server.url(), get());
    assert.equal(await response.text(), "\u2713\u{1f600}");
  });
});

// ---------------------------------------------------------------------------------------------
// chunks(): the stream-free body reader

async function readAllChunks(source: BodyChunks): Promise<string> {
  let text = "";
  for (let part = await source.read(); !part.done; part = await source.read()) {
    assert.ok(part.value.length > 0, "no empty chunks");
    text += decoder.decode(part.value, { stream: true });
  }
  return text + decoder.decode();
}

Deno.test("chunks() reads a chunked and a content-length body and keeps the connection", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0 ? CHUNKED_RESPONSE : `HTTP/1.1 200 OK\r\ncontent-length: 12\r\n\r\nhello chunks`
    ),
    async (server, client) => {
      const chunked = (await client.request(server.url(), get())).chunks();
      assert.equal(await readAllChunks(chunked), CHUNKED_TEXT);
      // Reading past the end keeps answering done.
      assert.equal((await chunked.read()).done, true);
      const sized = (await client.request(server.url(), get())).chunks();
      assert.equal(await readAllChunks(sized), "hello chunks");
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("chunks() and the other body readers exclude each other", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const first = await client.request(server.url(), get());
      const source = first.chunks();
      assert.throws(() => first.chunks(), TypeError);
      await assert.rejects(first.text(), TypeError);
      assert.equal(await readAllChunks(source), "ok");

      const second = await client.request(server.url(), get());
      assert.equal(await second.text(), "ok");
      assert.throws(() => second.chunks(), TypeError);
    },
  );
});

Deno.test("chunks() on a 204 response is done at once", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 204 No Content\r\n\r\n"),
    async (server, client) => {
      const source = (await client.request(server.url(), get())).chunks();
      assert.equal((await source.read()).done, true);
      await getText(client, server);
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("cancelling chunks() closes the connection", async () => {
  const sawClose = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    if (conn.index === 0) {
      await conn.write(CHUNKED_HEAD + "7\r\npartial\r\n");
      await conn.waitForClose();
      sawClose.resolve();
      return;
    }
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext");
  }, async (server, client) => {
    const source = (await client.request(server.url(), get())).chunks();
    assert.equal(decoder.decode((await source.read()).value), "partial");
    await source.cancel();
    await settles(sawClose.promise, "the server seeing the connection close");
    assert.equal(await getText(client, server), "next");
    assert.equal(server.connections, 2);
  });
});

Deno.test("aborting mid-body makes a pending chunks() read reject with the reason", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write(CHUNKED_HEAD + "5\r\nhello\r\n");
    await conn.waitForClose();
  }, async (server, client) => {
    const controller = new AbortController();
    const source = (await client.request(server.url(), get(controller.signal))).chunks();
    assert.equal(decoder.decode((await source.read()).value), "hello");
    const pending = source.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
  });
});

Deno.test("a connection closed mid-body makes a chunks() read reject", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 50\r\n\r\nshort");
    conn.close();
  }, async (server, client) => {
    const source = (await client.request(server.url(), get())).chunks();
    await assert.rejects(readAllChunks(source), isProtocolError(/before the end/));
  });
});

// ---------------------------------------------------------------------------------------------
// Keep-alive and connection reuse

Deno.test("sequential requests to one origin reuse a single connection", async () => {
  await withServer(
    serveAll((request, n) => {
      const body = `answer ${n} to ${request.requestLine}`;
      return `HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    }),
    async (server, client) => {
      for (let n = 0; n < 5; n++) {
        const response = await client.request(server.url(`/r${n}`), get());
        assert.equal(await response.text(), `answer ${n} to GET /r${n} HTTP/1.1`);
      }
      assert.equal(server.connections, 1);
      assert.deepEqual(server.requests.map((request) => request.connection), [0, 0, 0, 0, 0]);
    },
  );
});

Deno.test("concurrent requests each get their own connection and are then pooled", async () => {
  const bothArrived = gate();
  let arrived = 0;
  await withServer(async (conn) => {
    for (
      let request = await conn.readRequest();
      request !== null;
      request = await conn.readRequest()
    ) {
      if (++arrived === 2) bothArrived.resolve();
      // The first two answers wait for each other: both requests are in flight at once.
      await bothArrived.promise;
      await conn.write(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n${conn.index}`);
    }
  }, async (server, client) => {
    const [a, b] = await Promise.all([
      client.request(server.url(), get()),
      client.request(server.url(), get()),
    ]);
    assert.deepEqual([await a.text(), await b.text()].sort(), ["0", "1"]);
    for (let n = 0; n < 3; n++) await getText(client, server);
    assert.equal(server.connections, 2);
  });
});

Deno.test("a response with connection: close makes the next request open a new connection", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 5\r\n\r\nfirst"
        : "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecond"
    ),
    async (server, client) => {
      assert.equal(await getText(client, server), "first");
      assert.equal(await getText(client, server), "second");
      assert.equal(server.connections, 2);
      assert.deepEqual(server.requests.map((request) => request.connection), [0, 1]);
    },
  );
});

// Answers after which the connection cannot carry another request: each "ok" request opens its own.
const NOT_REUSABLE = [
  {
    name: "an HTTP/1.0 response makes the next request open a new connection",
    response: "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok",
  },
  {
    name: "a response with bytes beyond its content-length is not followed on the same connection",
    response: "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokSURPLUS",
  },
];
for (const { name, response } of NOT_REUSABLE) {
  Deno.test(name, async () => {
    await withServer(serveAll(() => response), async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 2);
    });
  });
}

Deno.test("a close-delimited body is read to the end of the stream and the connection is not reused", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ");
    await pause();
    await conn.write("the close");
    conn.close();
  }, async (server, client) => {
    assert.equal(await getText(client, server), "until the close");
    assert.equal(await streamText(await client.request(server.url(), get())), "until the close");
    assert.equal(server.connections, 2);
    assert.deepEqual(server.requests.map((request) => request.connection), [0, 1]);
  });
});

Deno.test("a connection the server closed while idle is not reused: the request goes out on a fresh one", async () => {
  const firstClosed = gate();
  await withServer(async (conn) => {
    if (conn.index === 0) {
      await conn.readRequest();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
      conn.close();
      firstClosed.resolve();
      return;
    }
    await serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecond")(conn);
  }, async (server, client) => {
    const body = JSON.stringify({ model: "m" });
    const post = { method: "POST", headers: {}, body, signal: new AbortController().signal };
    assert.equal(await (await client.request(server.url("/a"), post)).text(), "first");
    await firstClosed.promise;
    assert.equal(await (await client.request(server.url("/b"), post)).text(), "second");
    assert.equal(server.connections, 2);
    assert.deepEqual(server.requests.map((request) => request.requestLine), [
      "POST /a HTTP/1.1",
      "POST /b HTTP/1.1",
    ]);
    assert.equal(decoder.decode(server.requests[1]!.body), body);
  });
});

Deno.test("a reused connection the server closes without answering resends the request once on a fresh one", async () => {
  const body = JSON.stringify({ model: "m", note: UNICODE_BODY });
  await withServer(async (conn) => {
    if (conn.index === 0) {
      await conn.readRequest();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
      // The second request arrives whole; the server closes without a byte of an answer.
      await conn.readRequest();
      conn.close();
      return;
    }
    await serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nresent")(conn);
  }, async (server, client) => {
    const post = { method: "POST", headers: {}, body, signal: new AbortController().signal };
    assert.equal(await (await client.request(server.url("/a"), post)).text(), "first");
    assert.equal(await (await client.request(server.url("/b"), post)).text(), "resent");
    assert.equal(server.connections, 2, "the resend went out on a second connection");
    assert.deepEqual(
      server.requests.map((request) => [request.connection, request.requestLine]),
      [[0, "POST /a HTTP/1.1"], [0, "POST /b HTTP/1.1"], [1, "POST /b HTTP/1.1"]],
    );
    assert.deepEqual(server.requests[2]!.raw, server.requests[1]!.raw, "resent byte for byte");
  });
});

Deno.test("a reused connection reset by the server before answering resends the request once", async () => {
  const secondWritten = gate();
  await withServer(async (conn) => {
    if (conn.index === 0) {
      await conn.readRequest();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
      // Closing with the second request unread in the socket sends an RST rather than a FIN.
      await secondWritten.promise;
      conn.close();
      return;
    }
    await serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nresent")(conn);
  }, async (server, client) => {
    assert.equal(await getText(client, server), "first");
    const second = client.request(server.url(), get());
    await pause(50);
    secondWritten.resolve();
    assert.equal(await (await second).text(), "resent");
    assert.equal(server.connections, 2);
    assert.equal(server.requests.length, 2, "the first connection never read the second request");
  });
});

Deno.test("a reused connection that dies after part of an answer is not resent", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-");
    conn.close();
  }, async (server, client) => {
    assert.equal(await getText(client, server), "first");
    await assert.rejects(
      client.request(server.url(), get()),
      isProtocolError(/closed before the response head/),
    );
    assert.equal(server.connections, 1, "no second connection carried a resend");
    assert.equal(server.requests.length, 2);
  });
});

Deno.test("a request resent after a stale reused connection is not resent again when the fresh one fails", async () => {
  await withServer(async (conn) => {
    if (conn.index === 0) {
      await conn.readRequest();
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfirst");
    }
    await conn.readRequest();
    conn.close();
  }, async (server, client) => {
    assert.equal(await getText(client, server), "first");
    await assert.rejects(
      client.request(server.url(), get()),
      isProtocolError(/closed before the response head/),
    );
    assert.equal(server.connections, 2, "one resend, on one fresh connection");
    assert.equal(server.requests.length, 3);
  });
});

Deno.test("a request after the server closed every idle connection succeeds on a fresh one", async () => {
  const firstTwo = gate();
  const closed: Promise<void>[] = [];
  const closers = [gate(), gate()];
  for (const closer of closers) closed.push(closer.promise);
  let arrived = 0;
  await withServer(async (conn) => {
    if (conn.index < 2) {
      await conn.readRequest();
      if (++arrived === 2) firstTwo.resolve();
      await firstTwo.promise;
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
      conn.close();
      closers[conn.index]!.resolve();
      return;
    }
    await serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh")(conn);
  }, async (server, client) => {
    // Two requests in flight at once leave two pooled connections behind.
    const [a, b] = await Promise.all([
      client.request(server.url(), get()),
      client.request(server.url(), get()),
    ]);
    assert.equal(await a.text(), "ok");
    assert.equal(await b.text(), "ok");
    await Promise.all(closed);
    // Both pooled connections are dead; the retry must not pick the other dead one.
    const response = await client.request(server.url(), get());
    assert.equal(await response.text(), "fresh");
    assert.equal(server.connections, 3);
  });
});

Deno.test("a connection idle for longer than the idle timeout is closed instead of reused", async () => {
  const sawClose = gate();
  await withServer(async (conn) => {
    for (
      let request = await conn.readRequest();
      request !== null;
      request = await conn.readRequest()
    ) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
    if (conn.index === 0) sawClose.resolve();
  }, async (server, client) => {
    assert.equal(await getText(client, server), "ok");
    assert.equal(await getText(client, server), "ok");
    assert.equal(server.connections, 1);
    // The pool's clock jumps past the idle timeout; nothing actually waits.
    const realNow = performance.now;
    performance.now = () => realNow.call(performance) + DEFAULT_IDLE_TIMEOUT_MS + 1;
    try {
      assert.equal(await getText(client, server), "ok");
    } finally {
      performance.now = realNow;
    }
    assert.equal(server.connections, 2);
    await settles(sawClose.promise, "the server seeing the stale connection close");
  });
});

/** Runs `fn` with the pool's clock moved `ms` ahead; nothing actually waits. */
async function later<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const realNow = performance.now;
  performance.now = () => realNow.call(performance) + ms;
  try {
    return await fn();
  } finally {
    performance.now = realNow;
  }
}

Deno.test("the pool's idle timeout is the client's idleTimeoutMs setting", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      assert.equal(await later(900, () => getText(client, server)), "ok");
      assert.equal(server.connections, 1, "reused within the timeout");
      assert.equal(await later(900 + 1_001, () => getText(client, server)), "ok");
      assert.equal(server.connections, 2, "a new connection past it");
    },
    { idleTimeoutMs: 1_000 },
  );
});

Deno.test("a Keep-Alive timeout from the server shortens the connection's idle life below it", async () => {
  await withServer(
    serveAll(() =>
      "HTTP/1.1 200 OK\r\nkeep-alive: timeout=2, max=100\r\ncontent-length: 2\r\n\r\nok"
    ),
    async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      assert.equal(await later(1_400, () => getText(client, server)), "ok");
      assert.equal(server.connections, 1, "reused well within the server's 2 s");
      // Idle 1.6 s after the last answer: under the pool's 4 s, too close to the server's 2 s.
      assert.equal(await later(1_400 + 1_600, () => getText(client, server)), "ok");
      assert.equal(server.connections, 2);
    },
  );
});

Deno.test("a Keep-Alive timeout of 0 keeps the connection out of the pool", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\nkeep-alive: timeout=0\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 2);
    },
  );
});

Deno.test("at most MAX_IDLE_PER_ORIGIN idle connections are kept per origin", async () => {
  const count = MAX_IDLE_PER_ORIGIN + 1;
  const sawClose = gate();
  await withServer(async (conn) => {
    for (
      let request = await conn.readRequest();
      request !== null;
      request = await conn.readRequest()
    ) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    }
    sawClose.resolve();
  }, async (server, client) => {
    // Requests started together find the pool empty: each opens its own connection.
    const first = await Promise.all(
      Array.from({ length: count }, () => client.request(server.url(), get())),
    );
    for (const response of first) assert.equal(await response.text(), "ok");
    assert.equal(server.connections, count);
    // One connection beyond the limit was closed rather than pooled...
    await settles(sawClose.promise, "the server seeing the surplus connection close");
    // ...and the others all serve again without a new connection.
    const second = await Promise.all(
      Array.from({ length: MAX_IDLE_PER_ORIGIN }, () => client.request(server.url(), get())),
    );
    for (const response of second) assert.equal(await response.text(), "ok");
    assert.equal(server.connections, count);
  });
});

Deno.test("closing the client closes its idle connections", async () => {
  const sawClose = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    assert.equal(await conn.readRequest(), null);
    sawClose.resolve();
  }, async (server, client) => {
    assert.equal(await getText(client, server), "ok");
    client.close();
    await settles(sawClose.promise, "the server seeing the idle connection close");
  });
});

Deno.test("closing the client lets an in-flight response finish, then closes its connection", async () => {
  const release = gate();
  const sawClose = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nhello");
    await release.promise;
    await conn.write("world");
    assert.equal(await conn.readRequest(), null);
    sawClose.resolve();
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    client.close();
    release.resolve();
    assert.equal(await response.text(), "helloworld");
    await settles(sawClose.promise, "the server seeing the connection close");
  });
});

Deno.test("cancelling a body stream closes its connection", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    if (conn.index === 0) {
      await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      await conn.waitForClose();
      return;
    }
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext");
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), "partial");
    await reader.cancel();
    assert.equal(await getText(client, server), "next");
    assert.equal(server.connections, 2);
  });
});

// ---------------------------------------------------------------------------------------------
// Interim and bodiless responses

Deno.test("an interim 100 Continue before the real response is skipped", async () => {
  await withServer(
    serveAll(() =>
      "HTTP/1.1 100 Continue\r\n\r\n" +
      "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nx-final: yes\r\ncontent-length: 4\r\n\r\nreal"
    ),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("x-final"), "yes");
      assert.equal(response.headers.get("link"), null);
      assert.equal(await response.text(), "real");
      // The interim answers leave the connection usable.
      assert.equal(await getText(client, server), "real");
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("an interim response written separately from the real one is skipped", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 100 Continue\r\n\r\n");
    await pause();
    await conn.write("HTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone");
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    assert.equal(response.status, 201);
    assert.equal(await response.text(), "done");
  });
});

Deno.test("a 204 response has no body and keeps the connection", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? "HTTP/1.1 204 No Content\r\nx-id: 1\r\n\r\n"
        : "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nafter"
    ),
    async (server, client) => {
      const empty = await client.request(server.url(), get());
      assert.equal(empty.status, 204);
      assert.equal(empty.ok, true);
      assert.equal(empty.body, null);
      assert.equal(empty.headers.get("x-id"), "1");
      assert.deepEqual(await empty.bytes(), new Uint8Array(0));
      assert.equal(await getText(client, server), "after");
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("a HEAD response has no body even with a content-length", async () => {
  await withServer(
    serveAll((request) =>
      request.requestLine.startsWith("HEAD")
        ? "HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n"
        : "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nget"
    ),
    async (server, client) => {
      const head = await client.request(server.url(), {
        method: "HEAD",
        headers: {},
        signal: new AbortController().signal,
      });
      assert.equal(head.headers.get("content-length"), "1234");
      assert.equal(head.body, null);
      assert.equal(await head.text(), "");
      assert.equal(await getText(client, server), "get");
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("non-2xx responses are returned with ok false and their body", async () => {
  await withServer(
    serveAll(() =>
      'HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\ncontent-length: 17\r\n\r\n{"error":"slow"}\n'
    ),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      assert.equal(response.status, 429);
      assert.equal(response.ok, false);
      assert.equal(response.headers.get("retry-after"), "2");
      assert.equal(await response.text(), '{"error":"slow"}\n');
    },
  );
});

Deno.test("response headers keep repeated fields and decode latin1 bytes", async () => {
  await withServer(
    serveAll(() =>
      latin1(
        "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nx-name: caf\u00e9\r\n" +
          "x-folded: one\r\n two\r\ncontent-length: 0\r\n\r\n",
      )
    ),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
      assert.equal(response.headers.get("x-name"), "caf\u00e9");
      assert.equal(response.headers.get("x-folded"), "one two");
      assert.equal(await response.text(), "");
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Request bytes

Deno.test("the request is sent with its line, host, headers, UTF-8 body length and body bytes", async () => {
  const body = "h\u00e9llo \u2713";
  const bodyBytes = encoder.encode(body);
  assert.equal(bodyBytes.length, 10); // 7 characters, 10 bytes
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url("/v1/x?y=1"), {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
        body,
        signal: new AbortController().signal,
      });
      assert.equal(await response.text(), "");
      const [request] = server.requests;
      assert.ok(request !== undefined);
      assert.equal(request.requestLine, "POST /v1/x?y=1 HTTP/1.1");
      assert.deepEqual(header(request, "host"), [`127.0.0.1:${server.port}`]);
      assert.deepEqual(header(request, "content-type"), ["application/json"]);
      assert.deepEqual(header(request, "authorization"), ["Bearer sk-test"]);
      assert.deepEqual(header(request, "content-length"), [String(bodyBytes.length)]);
      assert.deepEqual(header(request, "accept-encoding"), ["identity"]);
      assert.deepEqual(header(request, "transfer-encoding"), []);
      assert.deepEqual(request.body, bodyBytes);
      // The body follows the blank line directly and nothing follows the body.
      const raw = decoder.decode(request.raw);
      assert.ok(raw.startsWith("POST /v1/x?y=1 HTTP/1.1\r\nhost: "), raw);
      assert.ok(raw.endsWith(`\r\n\r\n${body}`), raw);
      assert.equal(request.raw.length, raw.indexOf("\r\n\r\n") + 4 + bodyBytes.length);
    },
  );
});

Deno.test("bodies of every size and script go out byte for byte with their UTF-8 length", async () => {
  const bodies = [
    "",
    "{}",
    // Two-, three- and four-byte characters, and a lone surrogate (sent as U+FFFD, 3 bytes).
    "\u00e9\u2713\u{1f600}\ud800x",
    // Around the size up to which a request is encoded into a reused buffer, in both scripts.
    "a".repeat(5_300),
    "\u{1f600}".repeat(2_700),
    "\u00e9".repeat(8_000),
    "z".repeat(100_000),
  ];
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      for (const body of bodies) {
        const response = await client.request(server.url(), {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: new AbortController().signal,
        });
        await response.text();
      }
      assert.equal(server.requests.length, bodies.length);
      for (const [i, body] of bodies.entries()) {
        const sent = encoder.encode(body);
        const request = server.requests[i];
        assert.deepEqual(header(request, "content-length"), [String(sent.length)], `body ${i}`);
        assert.deepEqual(request?.body, sent, `body ${i}`);
      }
    },
  );
});

Deno.test("concurrent requests with different bodies each arrive intact", async () => {
  // Echoes each body back, so every answer can be matched with its request.
  const echo = serveAll((request) =>
    concat([
      encoder.encode(`HTTP/1.1 200 OK\r\ncontent-length: ${request.body.length}\r\n\r\n`),
      request.body,
    ])
  );
  await withServer(echo, async (server, client) => {
    const bodyOf = (i: number) => `{"n":${i},"text":"${"\u00e9x".repeat(i * 7)}"}`;
    for (let round = 0; round < 3; round++) {
      const answers = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const response = await client.request(server.url(), {
            method: "POST",
            headers: {},
            body: bodyOf(i),
            signal: new AbortController().signal,
          });
          return await response.text();
        }),
      );
      assert.deepEqual(answers, Array.from({ length: 24 }, (_, i) => bodyOf(i)));
    }
  });
});

Deno.test("a request without a body sends no content-length and default user-agent and accept", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      await getText(client, server);
      const [request] = server.requests;
      assert.equal(request?.requestLine, "GET / HTTP/1.1");
      assert.deepEqual(header(request, "content-length"), []);
      assert.deepEqual(header(request, "user-agent"), ["llm-gateway"]);
      assert.deepEqual(header(request, "accept"), ["*/*"]);
      assert.equal(request?.body.length, 0);
      assert.ok(decoder.decode(request?.raw).endsWith("\r\n\r\n"));
    },
  );
});

Deno.test("headers the client writes itself cannot be overridden or duplicated by the caller", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url("/p"), {
        method: "POST",
        headers: {
          host: "evil.example",
          "content-length": "999",
          "transfer-encoding": "chunked",
          "accept-encoding": "gzip",
          "user-agent": "custom-agent/1",
          accept: "text/event-stream",
        },
        body: "abc",
        signal: new AbortController().signal,
      });
      await response.text();
      const [request] = server.requests;
      assert.deepEqual(header(request, "host"), [`127.0.0.1:${server.port}`]);
      assert.deepEqual(header(request, "content-length"), ["3"]);
      assert.deepEqual(header(request, "transfer-encoding"), []);
      assert.deepEqual(header(request, "accept-encoding"), ["identity"]);
      assert.deepEqual(header(request, "user-agent"), ["custom-agent/1"]);
      assert.deepEqual(header(request, "accept"), ["text/event-stream"]);
      assert.equal(decoder.decode(request?.body), "abc");
    },
  );
});

Deno.test("the request id goes out once as x-request-id, in place of a configured one", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"),
    async (server, client) => {
      const headers = { "x-request-id": "from-config", "x-other": "kept" };
      const signal = new AbortController().signal;
      await (await client.request(server.url(), {
        method: "GET",
        headers,
        requestId: "req-1",
        signal,
      }))
        .text();
      await (await client.request(server.url(), { method: "GET", headers, signal })).text();
      const [withId, withoutId] = server.requests;
      assert.deepEqual(header(withId, "x-request-id"), ["req-1"]);
      assert.deepEqual(header(withId, "x-other"), ["kept"]);
      assert.deepEqual(header(withoutId, "x-request-id"), ["from-config"]);
      assert.deepEqual(headers, { "x-request-id": "from-config", "x-other": "kept" });
    },
  );
});

Deno.test("a header with CR, LF or NUL in its value or a bad name throws TypeError before sending", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const invalid: Record<string, string>[] = [
        { "x-injected": "a\r\nx-evil: 1" },
        { "x-injected": "a\nb" },
        { "x-injected": "a\rb" },
        { "x-injected": "a\0b" },
        { "bad name": "v" },
        { "": "v" },
        { "x-colon:": "v" },
      ];
      const signal = new AbortController().signal;
      for (const headers of invalid) {
        await assert.rejects(
          client.request(server.url(), { method: "GET", headers, signal }),
          TypeError,
          JSON.stringify(headers),
        );
      }
      // Nothing was sent: the next request is the first the server sees, on its first connection.
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 1);
      assert.equal(server.requests.length, 1);
      assert.deepEqual(header(server.requests[0], "x-evil"), []);
    },
  );
});

Deno.test("a header record changed after it was sent is checked again before the next send", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const headers: Record<string, string> = { "x-tenant": "a" };
      const signal = new AbortController().signal;
      const send = async () =>
        await (await client.request(server.url(), { method: "GET", headers, signal })).text();
      assert.equal(await send(), "ok");
      headers["x-tenant"] = "b\r\nx-evil: 1";
      await assert.rejects(send(), TypeError);
      headers["x-tenant"] = "b";
      headers["bad name"] = "v";
      await assert.rejects(send(), TypeError);
      delete headers["bad name"];
      headers["x-added"] = "c";
      assert.equal(await send(), "ok");
      assert.equal(server.requests.length, 2);
      assert.deepEqual(header(server.requests[1], "x-tenant"), ["b"]);
      assert.deepEqual(header(server.requests[1], "x-added"), ["c"]);
      assert.deepEqual(header(server.requests[1], "x-evil"), []);
    },
  );
});

Deno.test("a URL that is not http(s) is rejected with a TypeError", async () => {
  const client = new Http1Client();
  try {
    await assert.rejects(client.request("ftp://127.0.0.1/file", get()), TypeError);
    await assert.rejects(client.request("not a url", get()), TypeError);
  } finally {
    client.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Errors

Deno.test("a connection closed mid-body rejects bytes() with a protocol error", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part");
    conn.close();
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    await assert.rejects(response.bytes(), isProtocolError(/before the end of the response body/));
  });
});

Deno.test("a connection closed mid-body makes a body stream read reject", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly part");
    conn.close();
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    const reader = response.body!.getReader();
    let received = "";
    await assert.rejects(
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          received += decoder.decode(value);
        }
      })(),
      isProtocolError(/before the end of the response body/),
    );
    assert.equal(received, "only part");
  });
});

// Chunked bodies cut off by the server closing: mid-chunk, and after a chunk but before the last.
const CUT_CHUNKED = [
  { name: "a connection closed mid-chunk rejects the body", sent: "a\r\nhel" },
  { name: "a connection closed before the last chunk rejects the body", sent: "5\r\nhello\r\n" },
];
for (const { name, sent } of CUT_CHUNKED) {
  Deno.test(name, async () => {
    await withServer(async (conn) => {
      await conn.readRequest();
      await conn.write(CHUNKED_HEAD + sent);
      conn.close();
    }, async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.text(), isProtocolError(/before the end/));
    });
  });
}

Deno.test("a connection closed before any response rejects request()", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    conn.close();
  }, async (server, client) => {
    await assert.rejects(
      client.request(server.url(), get()),
      isProtocolError(/closed before the response head/),
    );
    assert.equal(server.connections, 1);
  });
});

Deno.test("a malformed status line rejects request()", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? "HTTP/1.1 abc OK\r\ncontent-length: 0\r\n\r\n"
        : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    ),
    async (server, client) => {
      await assert.rejects(client.request(server.url(), get()), isProtocolError(/status line/));
      // The broken connection is dropped, not pooled.
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 2);
    },
  );
});

Deno.test("a non-HTTP answer rejects request()", async () => {
  await withServer(serveAll(() => "SSH-2.0-OpenSSH_9.6\r\n\r\n"), async (server, client) => {
    await assert.rejects(client.request(server.url(), get()), isProtocolError(/status line/));
  });
});

Deno.test("a malformed status line on a reused connection is not retried", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0 ? "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" : "HTTP/9 nope\r\n\r\n"
    ),
    async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      await assert.rejects(client.request(server.url(), get()), isProtocolError(/status line/));
      assert.equal(server.requests.length, 2);
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("conflicting content-length values reject request()", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello!"),
    async (server, client) => {
      await assert.rejects(
        client.request(server.url(), get()),
        isProtocolError(/invalid content-length/),
      );
    },
  );
});

Deno.test("an invalid chunk size rejects the body and drops the connection", async () => {
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? CHUNKED_HEAD + "5\r\nhello\r\nzz\r\nbroken\r\n0\r\n\r\n"
        : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    ),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.bytes(), isProtocolError(/invalid chunk size/));
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 2);
    },
  );
});

Deno.test("an invalid chunk size rejects a body stream read after the valid chunks", async () => {
  await withServer(
    serveAll(() => CHUNKED_HEAD + "5\r\nhello\r\n-1\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      const reader = response.body!.getReader();
      assert.equal(decoder.decode((await reader.read()).value), "hello");
      await assert.rejects(reader.read(), isProtocolError(/invalid chunk size/));
    },
  );
});

Deno.test("a chunk longer than its declared size rejects the body", async () => {
  await withServer(
    serveAll(() => CHUNKED_HEAD + "3\r\nhello\r\n0\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.text(), isProtocolError(/longer than its declared size/));
    },
  );
});

Deno.test("a chunk-size line ended by a bare LF rejects the body", async () => {
  await withServer(
    serveAll(() => CHUNKED_HEAD + "5\nhello\r\n0\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.text(), isProtocolError(/bare LF/));
    },
  );
});

Deno.test("a response head larger than 64 KiB rejects request()", async () => {
  const head = "HTTP/1.1 200 OK\r\nx-big: " + "a".repeat(70 * 1024) +
    "\r\ncontent-length: 0\r\n\r\n";
  await withServer(async (conn) => {
    await conn.readRequest();
    try {
      await conn.write(head);
    } catch {
      // The client may reset the connection before it has taken every byte.
    }
    await conn.waitForClose();
  }, async (server, client) => {
    await assert.rejects(client.request(server.url(), get()), isProtocolError(/longer than 65536/));
  });
});

Deno.test("a response head of exactly 64 KiB is accepted and one byte more is rejected", async () => {
  const limit = 64 * 1024;
  const start = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-pad: ";
  const end = "\r\n\r\n";
  const padding = (size: number) => "p".repeat(size - start.length - end.length);
  const headOf = (size: number) => start + padding(size) + end;
  assert.equal(headOf(limit).length, limit);
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write(headOf(limit) + "ok");
    // The buffer grown for the long head serves the next request on the connection too.
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext");
    await conn.readRequest();
    try {
      await conn.write(headOf(limit + 1) + "ok");
    } catch {
      // The client may reset the connection before it has taken every byte.
    }
    await conn.waitForClose();
  }, async (server, client) => {
    const fits = await client.request(server.url(), get());
    assert.equal(fits.headers.get("x-pad"), padding(limit));
    assert.equal(await fits.text(), "ok");
    assert.equal(await getText(client, server), "next");
    await assert.rejects(client.request(server.url(), get()), isProtocolError(/longer than/));
    assert.equal(server.connections, 1);
  });
});

Deno.test("a response head of 40 KiB sent in pieces is accepted", async () => {
  const value = "v".repeat(40 * 1024);
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.writeSlowly(
      `HTTP/1.1 200 OK\r\nx-long: ${value}\r\ncontent-length: 2\r\n\r\nok`,
      4096,
    );
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    assert.equal(response.headers.get("x-long"), value);
    assert.equal(await response.text(), "ok");
  });
});

Deno.test("an unknown content-encoding rejects request() with the client's error and drops the connection", async () => {
  class Undecodable extends Error {}
  const server = new ScriptedServer(
    serveAll((_, n) =>
      n === 0
        ? "HTTP/1.1 200 OK\r\ncontent-encoding: zstd\r\ncontent-length: 3\r\n\r\nabc"
        : "HTTP/1.1 200 OK\r\ncontent-encoding: identity\r\ncontent-length: 2\r\n\r\nok"
    ),
  );
  const client = new Http1Client({ undecodable: (coding) => new Undecodable(coding) });
  try {
    await assert.rejects(client.request(server.url(), get()), (err) => {
      assert.ok(err instanceof Undecodable);
      assert.equal(err.message, "zstd");
      return true;
    });
    // identity is no encoding at all.
    assert.equal(await getText(client, server), "ok");
    assert.equal(server.connections, 2);
  } finally {
    client.close();
    await server.close();
  }
});

Deno.test("a refused connection rejects request()", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const client = new Http1Client();
  try {
    await assert.rejects(
      client.request(`http://127.0.0.1:${port}/`, get()),
      Deno.errors.ConnectionRefused,
    );
  } finally {
    client.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Abort

Deno.test("aborting while the server withholds the response rejects request() with the reason", async () => {
  const gotRequest = gate();
  const sawClose = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    gotRequest.resolve();
    await conn.waitForClose();
    sawClose.resolve();
  }, async (server, client) => {
    const controller = new AbortController();
    const pending = client.request(server.url(), get(controller.signal));
    await gotRequest.promise;
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    // Aborting closed the connection.
    await settles(sawClose.promise, "the server seeing the connection close");
  });
});

Deno.test("aborting mid-body makes a pending body stream read reject with the reason", async () => {
  const sawClose = gate();
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nfirst part");
    await conn.waitForClose();
    sawClose.resolve();
  }, async (server, client) => {
    const controller = new AbortController();
    const response = await client.request(server.url(), get(controller.signal));
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), "first part");
    const pending = reader.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
    await settles(sawClose.promise, "the server seeing the connection close");
  });
});

Deno.test("aborting mid-body makes a pending bytes() reject with the reason", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write(CHUNKED_HEAD + "5\r\nhello\r\n");
    await conn.waitForClose();
  }, async (server, client) => {
    const controller = new AbortController();
    const response = await client.request(server.url(), get(controller.signal));
    const pending = response.bytes();
    await pause();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(pending, (err) => err === reason);
  });
});

Deno.test("aborting while the connection is being opened rejects request() with the reason", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const controller = new AbortController();
      const pending = client.request(server.url(), get(controller.signal));
      // request() is now waiting for its connection.
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(pending, (err) => err === reason);
      assert.equal(server.requests.length, 0);
    },
  );
});

Deno.test("an already aborted signal rejects request() without connecting", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const controller = new AbortController();
      const reason = new Error("stop");
      controller.abort(reason);
      await assert.rejects(
        client.request(server.url(), get(controller.signal)),
        (err) => err === reason,
      );
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 1);
    },
  );
});

Deno.test("aborting after the body was read leaves the pooled connection usable", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"),
    async (server, client) => {
      const controller = new AbortController();
      assert.equal(await (await client.request(server.url(), get(controller.signal))).text(), "ok");
      controller.abort(new Error("late"));
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 1);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Limits: whole-body reads and trailer fields

class TooLarge extends Error {}
const LIMITED: Http1ClientOptions = {
  maxBodyBytes: 1024,
  tooLarge: (limit) => new TooLarge(`larger than ${limit}`),
};

function isTooLarge(err: unknown): boolean {
  assert.ok(err instanceof TooLarge, `expected TooLarge, got ${err}`);
  assert.equal(err.message, "larger than 1024");
  return true;
}

Deno.test("a declared content-length beyond maxBodyBytes rejects bytes() before reading and drops the connection", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    // 3 GB declared; only a little is sent, so reading it would hang.
    await conn.write("HTTP/1.1 200 OK\r\ncontent-length: 3221225472\r\n\r\nsome");
    await conn.waitForClose();
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    await assert.rejects(response.bytes(), isTooLarge);
    assert.equal(server.connections, 1);
  }, LIMITED);
});

// Bodies whose size is only known while reading them, each 2 KB against a 1 KB limit.
const UNDECLARED = [
  {
    name: "chunked",
    bytes: CHUNKED_HEAD + "400\r\n" + "a".repeat(1024) + "\r\n400\r\n" + "b".repeat(1024) +
      "\r\n0\r\n\r\n",
  },
  { name: "close-delimited", bytes: "HTTP/1.1 200 OK\r\n\r\n" + "c".repeat(2048) },
];
for (const { name, bytes } of UNDECLARED) {
  Deno.test(`a ${name} body beyond maxBodyBytes rejects text() and closes the connection`, async () => {
    const sawClose = gate();
    await withServer(async (conn) => {
      if (conn.index === 0) {
        await conn.readRequest();
        await conn.write(bytes);
        await conn.waitForClose();
        sawClose.resolve();
        return;
      }
      await serveAll(() => "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")(conn);
    }, async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.text(), isTooLarge);
      await settles(sawClose.promise, "the server seeing the connection close");
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 2);
    }, LIMITED);
  });
}

Deno.test("a body of exactly maxBodyBytes is read whole, and a body stream is not capped", async () => {
  const exact = "x".repeat(1024);
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? `HTTP/1.1 200 OK\r\ncontent-length: 1024\r\n\r\n${exact}`
        : n === 1
        ? CHUNKED_HEAD + "400\r\n" + exact + "\r\n0\r\n\r\n"
        : CHUNKED_HEAD + "800\r\n" + exact + exact + "\r\n0\r\n\r\n"
    ),
    async (server, client) => {
      assert.equal(await getText(client, server), exact);
      assert.equal(await getText(client, server), exact);
      assert.equal(await streamText(await client.request(server.url(), get())), exact + exact);
      assert.equal(server.connections, 1);
    },
    LIMITED,
  );
});

Deno.test("endless chunked trailer fields reject the body once they pass 64 KiB", async () => {
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write(CHUNKED_HEAD + "2\r\nok\r\n0\r\n");
    const line = encoder.encode(`x-trailer: ${"t".repeat(1000)}\r\n`);
    try {
      // Sends trailer lines until the client gives up on the connection.
      for (;;) await conn.write(line);
    } catch {
      // The client closed the connection.
    }
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    await assert.rejects(response.bytes(), isProtocolError(/trailer fields longer than 65536/));
  });
});

Deno.test("trailer fields under 64 KiB are read and ignored", async () => {
  const trailers = `x-trailer: ${"t".repeat(1000)}\r\n`.repeat(60);
  await withServer(
    serveAll(() => CHUNKED_HEAD + "2\r\nok\r\n0\r\n" + trailers + "\r\n"),
    async (server, client) => {
      assert.equal(await getText(client, server), "ok");
      assert.equal(await getText(client, server), "ok");
      assert.equal(server.connections, 1);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// Content-encoding: the request asks for identity; a server that compresses anyway is decoded

async function compress(text: string, format: CompressionFormat): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream(format));
  return await new Response(stream).bytes();
}

/**
 * One gzip stream of `texts`, flushed after each as a server streaming SSE does: piece i decodes
 * to text i on its own; the last piece is the gzip trailer.
 */
async function gzipFlushed(texts: string[]): Promise<Uint8Array[]> {
  const gzip = zlib.createGzip();
  const out: Uint8Array[] = [];
  gzip.on("data", (data: Uint8Array) => out.push(data));
  const pieces: Uint8Array[] = [];
  for (const text of texts) {
    gzip.write(text);
    await new Promise<void>((resolve) => gzip.flush(zlib.constants.Z_SYNC_FLUSH, resolve));
    pieces.push(concat(out.splice(0)));
  }
  const ended = new Promise((resolve) => gzip.on("end", resolve));
  gzip.end();
  await ended;
  pieces.push(concat(out.splice(0)));
  return pieces;
}

function withBody(head: string, body: Uint8Array): Uint8Array {
  return concat([encoder.encode(head), body]);
}

/** `bytes` as one chunk of a chunked body, without the terminating zero chunk. */
function chunkOf(bytes: Uint8Array): Uint8Array {
  return concat([
    encoder.encode(`${bytes.length.toString(16)}\r\n`),
    bytes,
    encoder.encode("\r\n"),
  ]);
}

const CODINGS: [string, CompressionFormat][] = [
  ["gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["deflate", "deflate"],
  ["br", "brotli"],
];
for (const [coding, format] of CODINGS) {
  Deno.test(`a ${coding} body is decoded, and its encoding fields are not passed on`, async () => {
    const json = JSON.stringify({ object: "chat.completion", text: UNICODE_BODY.repeat(50) });
    const encoded = await compress(json, format);
    await withServer(
      serveAll(() =>
        withBody(
          `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: ${coding}\r\n` +
            `content-length: ${encoded.length}\r\n\r\n`,
          encoded,
        )
      ),
      async (server, client) => {
        const response = await client.request(server.url(), get());
        assert.equal(response.header!("content-encoding"), null);
        assert.equal(response.headers.get("content-length"), null);
        assert.equal(response.header!("content-type"), "application/json");
        assert.equal(await response.text(), json);
        assert.equal(await streamText(await client.request(server.url(), get())), json);
        assert.equal(server.connections, 1, "the connection is reused after a decoded body");
      },
    );
  });
}

Deno.test("a gzip SSE stream is decoded event by event as it arrives", async () => {
  const events = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', "data: [DONE]\n\n"];
  const pieces = await gzipFlushed(events);
  const gates = events.map(() => gate());
  await withServer(async (conn) => {
    await conn.readRequest();
    await conn.write(
      "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-encoding: gzip\r\n" +
        "transfer-encoding: chunked\r\n\r\n",
    );
    for (const [i, done] of gates.entries()) {
      await conn.write(chunkOf(pieces[i]!));
      await done.promise;
    }
    // The gzip trailer (checksum and length) comes last.
    await conn.write(concat([chunkOf(pieces.at(-1)!), encoder.encode("0\r\n\r\n")]));
  }, async (server, client) => {
    const response = await client.request(server.url(), get());
    const reader = response.body!.getReader();
    for (const [i, event] of events.entries()) {
      let text = "";
      while (text.length < event.length) {
        const { done, value } = await reader.read();
        assert.equal(done, false, `event ${i} arrived before the end`);
        text += decoder.decode(value);
      }
      assert.equal(text, event);
      gates[i]!.resolve();
    }
    assert.equal((await reader.read()).done, true);
    assert.equal(server.connections, 1);
  });
});

Deno.test("a decoded body beyond maxBodyBytes rejects bytes(), however small it was compressed", async () => {
  const encoded = await compress("0".repeat(1024 * 1024), "gzip");
  await withServer(
    serveAll(() =>
      withBody(
        `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${encoded.length}\r\n\r\n`,
        encoded,
      )
    ),
    async (server, client) => {
      assert.ok(encoded.length < 1024 * 8, "compressed far below the decoded size");
      const response = await client.request(server.url(), get());
      await assert.rejects(response.bytes(), isTooLarge);
    },
    { ...LIMITED, maxBodyBytes: 64 * 1024, tooLarge: () => new TooLarge("larger than 1024") },
  );
});

Deno.test("a corrupt gzip body rejects the read and drops the connection", async () => {
  const garbage = "not gzip at all";
  await withServer(
    serveAll((_, n) =>
      n === 0
        ? `HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${garbage.length}\r\n\r\n${garbage}`
        : "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    ),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      await assert.rejects(response.text());
      assert.equal(await getText(client, server), "ok");
    },
  );
});

Deno.test("a content-encoding on a bodiless answer is ignored", async () => {
  await withServer(
    serveAll(() => "HTTP/1.1 204 No Content\r\ncontent-encoding: zstd\r\n\r\n"),
    async (server, client) => {
      const response = await client.request(server.url(), get());
      assert.equal(response.status, 204);
      assert.equal(response.body, null);
    },
  );
});
