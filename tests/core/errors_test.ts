import assert from "node:assert/strict";
import { attemptCause, explainAttempt, failureOf, ProviderError } from "../../src/core/errors.ts";

Deno.test("an attempt's cause masks the provider key and URL credentials, and is capped", () => {
  const key = "sk-live-0123456789abcdef";
  const err = new ProviderError(
    "network",
    `p unreachable: error sending request for url (https://user:pw@up.example/v1?k=${key}): ` +
      "x".repeat(400),
  );
  const cause = attemptCause(err, key)!;
  assert.ok(!cause.includes(key));
  assert.ok(!cause.includes("user:pw"));
  assert.match(cause, /^p unreachable: error sending request for url \(https:\/\/\[redacted\]@/);
  assert.ok(cause.length <= 200, `${cause.length} chars`);
  assert.ok(cause.endsWith("..."));
});

Deno.test("an HTTP failure has no cause beyond its status, and a short cause is kept whole", () => {
  assert.equal(
    attemptCause(new ProviderError("http", "p answered HTTP 500", { status: 500 }), null),
    undefined,
  );
  const timeout = new ProviderError("timeout", "no answer within 30000ms");
  assert.equal(attemptCause(timeout, null), "no answer within 30000ms");
  assert.equal(
    explainAttempt({
      provider: "p",
      model: "m",
      kind: "timeout",
      cause: "no answer within 30000ms",
    }),
    "p/m: timeout (no answer within 30000ms)",
  );
  assert.equal(
    explainAttempt({ provider: "p", model: "m", kind: "http", status: 500 }),
    "p/m: HTTP 500",
  );
});

Deno.test("running out of descriptors while reaching a provider does not count against its breaker", () => {
  const signal = new AbortController().signal;
  const emfile = failureOf(new Error("Too many open files (os error 24)"), signal, "a unreachable");
  assert.ok(emfile instanceof ProviderError);
  assert.equal(emfile.kind, "network");
  assert.equal(emfile.countsAgainstBreaker, false);
  const refused = failureOf(
    new Error("Connection refused (os error 111)"),
    signal,
    "a unreachable",
  );
  assert.ok(refused instanceof ProviderError);
  assert.equal(refused.countsAgainstBreaker, true);
});
