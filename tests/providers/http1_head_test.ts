import assert from "node:assert/strict";
import {
  chunkSize,
  headEnd,
  HttpProtocolError,
  parseHead,
  type ResponseHead,
} from "../../src/providers/http1/head.ts";

const encoder = new TextEncoder();

/** A header block as it reaches `parseHead`: lines joined by CRLF, no trailing blank line. */
function head(...lines: string[]): Uint8Array {
  return encoder.encode(lines.join("\r\n"));
}

function parse(lines: string[], method = "GET"): ResponseHead {
  return parseHead(head(...lines), method);
}

function rejects(lines: string[], pattern: RegExp, method = "GET"): void {
  assert.throws(
    () => parse(lines, method),
    (err: unknown) => err instanceof HttpProtocolError && pattern.test(err.message),
  );
}

// ---------------------------------------------------------------------------------------------
// headEnd

Deno.test("headEnd returns the index of the blank line that ends a header block", () => {
  const text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  const bytes = encoder.encode(text);
  assert.equal(headEnd(bytes, 0), text.indexOf("\r\n\r\n"));
  assert.equal(headEnd(encoder.encode("\r\n\r\n"), 0), 0);
});

Deno.test("headEnd returns -1 while the header block is incomplete", () => {
  assert.equal(headEnd(new Uint8Array(0), 0), -1);
  assert.equal(headEnd(encoder.encode("HTTP/1.1 200 OK\r\n"), 0), -1);
  assert.equal(headEnd(encoder.encode("HTTP/1.1 200 OK\r\nx: y\r\n\r"), 0), -1);
  // Bare line feeds do not end a head.
  assert.equal(headEnd(encoder.encode("HTTP/1.1 200 OK\n\nbody"), 0), -1);
  assert.equal(headEnd(encoder.encode("HTTP/1.1 200 OK\r\n\nbody"), 0), -1);
});

Deno.test("headEnd finds the first blank line when the body holds another", () => {
  const text = "HTTP/1.1 200 OK\r\n\r\nbody\r\n\r\nmore";
  assert.equal(headEnd(encoder.encode(text), 0), 15);
});

Deno.test("headEnd resumed from the previous buffer length finds a terminator split across reads", () => {
  const text = "HTTP/1.1 204 No Content\r\nx: y\r\n\r\n";
  const bytes = encoder.encode(text);
  const expected = text.indexOf("\r\n\r\n");
  // Whatever prefix was scanned before (no terminator in it), resuming from its length finds it.
  for (let scanned = 0; scanned < bytes.length; scanned++) {
    assert.equal(headEnd(bytes.subarray(0, scanned), 0), -1, `prefix ${scanned}`);
    assert.equal(headEnd(bytes, scanned), expected, `resumed from ${scanned}`);
  }
});

Deno.test("headEnd does not look back further than a terminator that could straddle `from`", () => {
  const bytes = encoder.encode("\r\n\r\nabcdefgh");
  assert.equal(headEnd(bytes, 3), 0);
  assert.equal(headEnd(bytes, 4), -1);
});

// ---------------------------------------------------------------------------------------------
// parseHead: status line

Deno.test("parseHead reads the status code and headers of a response", () => {
  const parsed = parse([
    "HTTP/1.1 201 Created",
    "Content-Type: application/json",
    "Content-Length: 12",
    "X-Request-Id:abc",
  ]);
  assert.equal(parsed.status, 201);
  assert.equal(parsed.headers.get("content-type"), "application/json");
  assert.equal(parsed.headers.get("x-request-id"), "abc");
  assert.deepEqual(parsed.framing, { kind: "length", length: 12 });
  assert.equal(parsed.keepAlive, true);
});

Deno.test("parseHead accepts a status line without a reason phrase", () => {
  assert.equal(parse(["HTTP/1.1 404", "content-length: 0"]).status, 404);
  assert.equal(parse(["HTTP/1.1 503 ", "content-length: 0"]).status, 503);
});

Deno.test("parseHead trims optional whitespace around header values", () => {
  const parsed = parse(["HTTP/1.1 200 OK", "x-a:   spaced \t", "x-b:\tv", "content-length: 0"]);
  assert.equal(parsed.headers.get("x-a"), "spaced");
  assert.equal(parsed.headers.get("x-b"), "v");
});

Deno.test("parseHead keeps an empty header value", () => {
  const parsed = parse(["HTTP/1.1 200 OK", "x-empty:", "content-length: 0"]);
  assert.equal(parsed.headers.get("x-empty"), "");
});

Deno.test("parseHead rejects status lines that are not HTTP/1.x", () => {
  for (
    const line of [
      "",
      "garbage",
      "HTTP/2 200 OK",
      "HTTP/1.2 200 OK",
      "http/1.1 200 OK",
      "HTTP/1.1 abc OK",
      "HTTP/1.1 99 Too Low",
      "HTTP/1.1 2000 Too Long",
      "HTTP/1.1 200OK",
      "HTTP/1.1  200 OK",
      " HTTP/1.1 200 OK",
      "ICY 200 OK",
    ]
  ) {
    assert.throws(
      () => parse([line, "content-length: 0"]),
      (err: unknown) => err instanceof HttpProtocolError && /status line/.test(err.message),
      `status line ${JSON.stringify(line)}`,
    );
  }
});

Deno.test("parseHead rejects malformed header lines", () => {
  for (
    const line of [
      "no colon here",
      ": no name",
      "bad name: x",
      "name : space before colon",
      "ab(c: x",
      "\u00e9t\u00e9: x",
    ]
  ) {
    rejects(["HTTP/1.1 200 OK", line, "content-length: 0"], /malformed header line/);
  }
});

Deno.test("parseHead rejects a header continuation line with nothing to continue", () => {
  rejects(["HTTP/1.1 200 OK", " folded: first"], /malformed header line/);
});

Deno.test("parseHead rejects a header value with a NUL byte", () => {
  rejects(["HTTP/1.1 200 OK", "x-bad: a\0b", "content-length: 0"], /invalid value for header/);
});

// ---------------------------------------------------------------------------------------------
// parseHead: header values

Deno.test("parseHead keeps both values of a repeated header", () => {
  const parsed = parse([
    "HTTP/1.1 200 OK",
    "Set-Cookie: a=1; Path=/",
    "x-multi: one",
    "Set-Cookie: b=2; Path=/",
    "x-multi: two",
    "content-length: 0",
  ]);
  assert.deepEqual(parsed.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
  assert.equal(parsed.headers.get("x-multi"), "one, two");
});

Deno.test("parseHead's get reads a field as Headers.get does", () => {
  const lines = [
    "HTTP/1.1 200 OK",
    "Content-Type: text/event-stream",
    "x-multi: one",
    "X-Multi: two",
    "x-bare-cr: value\r",
    "x-spaced:  \t v \t",
    "x-empty:",
    "content-length: 0",
  ];
  const parsed = parse(lines);
  assert.deepEqual(parsed.fields[0], ["content-type", "text/event-stream"]);
  for (const name of ["content-type", "x-multi", "x-bare-cr", "x-spaced", "x-empty", "x-absent"]) {
    assert.equal(parsed.get(name), parsed.headers.get(name), name);
  }
  assert.equal(parsed.get("x-multi"), "one, two");
  assert.equal(parsed.get("x-bare-cr"), "value");
  assert.equal(parsed.get("x-absent"), null);
});

Deno.test("parseHead folds an obs-fold continuation line into the previous value", () => {
  const parsed = parse([
    "HTTP/1.1 200 OK",
    "x-folded: first",
    "   second",
    "\tthird",
    "x-next: after",
    "content-length: 0",
  ]);
  assert.equal(parsed.headers.get("x-folded"), "first second third");
  assert.equal(parsed.headers.get("x-next"), "after");
});

Deno.test("parseHead folds a continuation of the last header", () => {
  const parsed = parse(["HTTP/1.1 200 OK", "content-length: 0", "x-last: a", " b"]);
  assert.equal(parsed.headers.get("x-last"), "a b");
});

Deno.test("parseHead decodes a non-ASCII header byte as ISO-8859-1", () => {
  const prefix = encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-name: caf");
  const bytes = new Uint8Array(prefix.length + 1);
  bytes.set(prefix);
  bytes[prefix.length] = 0xe9; // "é" in latin1 (a lone invalid byte in UTF-8)
  const parsed = parseHead(bytes, "GET");
  assert.equal(parsed.headers.get("x-name"), "caf\u00e9");
});

Deno.test("parseHead decodes UTF-8 header bytes byte by byte, not as UTF-8", () => {
  // "é" in UTF-8 is C3 A9; as latin1 that is two characters.
  const parsed = parseHead(
    encoder.encode("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-name: caf\u00e9"),
    "GET",
  );
  assert.equal(parsed.headers.get("x-name"), "caf\u00c3\u00a9");
});

// ---------------------------------------------------------------------------------------------
// parseHead: framing

Deno.test("parseHead frames a body by its content-length", () => {
  assert.deepEqual(parse(["HTTP/1.1 200 OK", "content-length: 42"]).framing, {
    kind: "length",
    length: 42,
  });
  assert.deepEqual(parse(["HTTP/1.1 200 OK", "content-length:   7  "]).framing, {
    kind: "length",
    length: 7,
  });
  assert.deepEqual(parse(["HTTP/1.1 200 OK", "content-length: 0"]).framing, {
    kind: "length",
    length: 0,
  });
});

Deno.test("parseHead rejects conflicting content-length values", () => {
  rejects(["HTTP/1.1 200 OK", "content-length: 5, 6"], /invalid content-length/);
  rejects(["HTTP/1.1 200 OK", "content-length: 5", "content-length: 6"], /invalid content-length/);
});

Deno.test("parseHead accepts repeated identical content-length values", () => {
  assert.deepEqual(parse(["HTTP/1.1 200 OK", "content-length: 5, 5"]).framing, {
    kind: "length",
    length: 5,
  });
  assert.deepEqual(parse(["HTTP/1.1 200 OK", "Content-Length: 5", "content-length: 5"]).framing, {
    kind: "length",
    length: 5,
  });
});

Deno.test("parseHead rejects content-length values that are not a decimal number", () => {
  for (const value of ["", "abc", "-1", "+5", "1e3", "0x10", "5.0", "1 2", "9999999999999999"]) {
    rejects(["HTTP/1.1 200 OK", `content-length: ${value}`], /invalid content-length/);
  }
});

Deno.test("parseHead frames a body as chunked when chunked is the last transfer coding", () => {
  for (const value of ["chunked", "Chunked", "gzip, chunked", "gzip,chunked", "gzip ,  CHUNKED "]) {
    assert.deepEqual(
      parse(["HTTP/1.1 200 OK", `transfer-encoding: ${value}`]).framing,
      { kind: "chunked" },
      value,
    );
  }
  // Two transfer-encoding fields combine in order.
  assert.deepEqual(
    parse(["HTTP/1.1 200 OK", "transfer-encoding: gzip", "transfer-encoding: chunked"]).framing,
    { kind: "chunked" },
  );
});

Deno.test("parseHead reads to the close when chunked is not the last transfer coding", () => {
  for (const value of ["gzip", "chunked, gzip", "identity"]) {
    const parsed = parse(["HTTP/1.1 200 OK", `transfer-encoding: ${value}`]);
    assert.deepEqual(parsed.framing, { kind: "close" }, value);
    assert.equal(parsed.keepAlive, false, value);
  }
});

Deno.test("parseHead lets transfer-encoding override content-length", () => {
  const parsed = parse(["HTTP/1.1 200 OK", "content-length: 10", "transfer-encoding: chunked"]);
  assert.deepEqual(parsed.framing, { kind: "chunked" });
});

Deno.test("parseHead reads a body without length or chunking to the close", () => {
  const parsed = parse(["HTTP/1.1 200 OK", "content-type: text/plain"]);
  assert.deepEqual(parsed.framing, { kind: "close" });
  assert.equal(parsed.keepAlive, false);
});

Deno.test("parseHead gives no body to 1xx, 204, 304 and HEAD responses", () => {
  for (const status of ["100 Continue", "103 Early Hints", "204 No Content", "304 Not Modified"]) {
    const parsed = parse([`HTTP/1.1 ${status}`, "content-length: 10"]);
    assert.deepEqual(parsed.framing, { kind: "none" }, status);
    assert.equal(parsed.keepAlive, true, status);
  }
  const headResponse = parse(["HTTP/1.1 200 OK", "content-length: 10"], "HEAD");
  assert.deepEqual(headResponse.framing, { kind: "none" });
  assert.equal(headResponse.keepAlive, true);
  // A response that cannot have a body ignores even an invalid content-length.
  assert.deepEqual(parse(["HTTP/1.1 204 No Content", "content-length: 1, 2"]).framing, {
    kind: "none",
  });
});

// ---------------------------------------------------------------------------------------------
// parseHead: keep-alive

Deno.test("parseHead keeps an HTTP/1.1 connection alive unless told to close", () => {
  assert.equal(parse(["HTTP/1.1 200 OK", "content-length: 1"]).keepAlive, true);
  assert.equal(
    parse(["HTTP/1.1 200 OK", "content-length: 1", "connection: keep-alive"]).keepAlive,
    true,
  );
  assert.equal(
    parse(["HTTP/1.1 200 OK", "content-length: 1", "connection: close"]).keepAlive,
    false,
  );
  assert.equal(
    parse(["HTTP/1.1 200 OK", "content-length: 1", "Connection: CLOSE"]).keepAlive,
    false,
  );
  assert.equal(
    parse(["HTTP/1.1 200 OK", "transfer-encoding: chunked", "connection: upgrade, close"])
      .keepAlive,
    false,
  );
});

Deno.test("parseHead never keeps an HTTP/1.0 connection alive", () => {
  const parsed = parse(["HTTP/1.0 200 OK", "content-length: 2"]);
  assert.equal(parsed.status, 200);
  assert.deepEqual(parsed.framing, { kind: "length", length: 2 });
  assert.equal(parsed.keepAlive, false);
  assert.equal(
    parse(["HTTP/1.0 200 OK", "content-length: 2", "connection: keep-alive"]).keepAlive,
    false,
  );
});

// ---------------------------------------------------------------------------------------------
// chunkSize

Deno.test("chunkSize reads a hexadecimal chunk size", () => {
  assert.equal(chunkSize("0"), 0);
  assert.equal(chunkSize("5"), 5);
  assert.equal(chunkSize("a"), 10);
  assert.equal(chunkSize("1A"), 26);
  assert.equal(chunkSize("ff"), 255);
  assert.equal(chunkSize("00010"), 16);
  assert.equal(chunkSize("ffffffffffff"), 0xffffffffffff);
});

Deno.test("chunkSize ignores chunk extensions", () => {
  assert.equal(chunkSize("5;foo=bar"), 5);
  assert.equal(chunkSize('1a;name="quoted;value"'), 26);
  assert.equal(chunkSize("5 ;foo"), 5);
  assert.equal(chunkSize("0;last"), 0);
  assert.equal(chunkSize("c;"), 12);
});

Deno.test("chunkSize returns -1 for a line that is not a chunk size", () => {
  for (
    const line of ["", " ", ";ext", "zz", "-1", "+5", "0x5", "5.0", "1 2", "fffffffffffff", "g"]
  ) {
    assert.equal(chunkSize(line), -1, JSON.stringify(line));
  }
});
