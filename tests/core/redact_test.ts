import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { ProviderError } from "../../src/core/errors.ts";
import { createRedactor } from "../../src/core/redact.ts";
import { streamErrorEvent } from "../../src/core/stream_relay.ts";

const config = await parseConfig(
  `providers:
  - name: a
    target_url: "http://127.0.0.1:1"
    api_key: "sk-live-abcdef/123+456"
  - name: b
    target_url: "https://user:p%40ssw0rd-long@example.com/v1"
    api_key: "short"
  - name: off
    enabled: false
    target_url: "http://127.0.0.1:2"
    api_key: "sk-disabled-provider-key"
`,
  { filename: "redact.yaml", env: {} },
);

Deno.test("every provider's key and URL password is redacted, in plain and percent-encoded form", () => {
  const redact = createRedactor(config.providers);
  assert.equal(
    redact("k=sk-live-abcdef/123+456 q=sk-live-abcdef%2F123%2B456 p=p@ssw0rd-long"),
    "k=[redacted] q=[redacted] p=[redacted]",
  );
  assert.equal(redact("disabled: sk-disabled-provider-key"), "disabled: [redacted]");
  assert.equal(redact("a short key stays: short"), "a short key stays: short");
});

Deno.test("a stream's error event is redacted", () => {
  const redact = createRedactor(config.providers);
  const error = new ProviderError("protocol", "upstream said: bad key sk-live-abcdef/123+456");
  const event = streamErrorEvent(error, "a/m", redact);
  assert.ok(!event.includes("sk-live"), event);
  assert.match(event, /bad key \[redacted\]/);
});
