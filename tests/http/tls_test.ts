// server.tls: HTTPS with a certificate made in the test, HTTP/2 by ALPN, reload of new files.
import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { sdkClient } from "../support/sdk.ts";
import { OpenAI } from "../support/openai.ts";
import { parseConfig } from "../../src/config/load.ts";
import { hasCommand, makeCertificate } from "../support/test_certificate.ts";

const openssl = await hasCommand("openssl", ["version"]);

Deno.test({
  name: "with server.tls the openai SDK talks HTTPS to the gateway, over HTTP/2 where offered",
  ignore: !openssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "gateway_tls_" });
    const upstream = await startMockUpstream({ name: "a", models: ["m"] });
    const files = await makeCertificate(dir, "first");
    const yaml = (f: { cert: string; key: string }) =>
      `server:
  tls: {cert: "${f.cert}", key: "${f.key}"}
providers:
  - name: "a"
    target_url: "${upstream.url}"
    api_key: null
`;
    const gw = await startGateway(yaml(files));
    try {
      assert.match(gw.url, /^https:\/\//);
      const ca = await Deno.readTextFile(files.ca);
      const client = Deno.createHttpClient({ caCerts: [ca] });
      const sdk = new OpenAI({
        baseURL: gw.url + "/v1",
        apiKey: "unused",
        maxRetries: 0,
        fetchOptions: { client },
      });
      const reply = await sdk.chat.completions.create({
        model: "a/m",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(reply.choices[0]?.message.content, "Hello from a");

      // A client that does not trust the certificate is refused by TLS, not served in clear.
      await assert.rejects(sdkClient(gw.url).models.list());
      // Plain HTTP on the HTTPS port gets no answer.
      await assert.rejects(fetch(gw.url.replace("https:", "http:") + "/v1/info"));

      if (await hasCommand("curl")) {
        const out = await new Deno.Command("curl", {
          args: [
            "-s",
            "--cacert",
            files.cert,
            "-o",
            "/dev/null",
            "-w",
            "%{http_version}",
            `${gw.url}/v1/info`,
          ],
          stdout: "piped",
        }).output();
        assert.equal(new TextDecoder().decode(out.stdout), "2");
      }

      // A reload with a new certificate serves it to new connections.
      const second = await makeCertificate(dir, "second");
      await gw.server.reload(await parseConfig(yaml(second), { filename: "test.yaml", env: {} }));
      const fresh = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(second.ca)] });
      const res = await fetch(`${gw.url}/v1/info`, { client: fresh });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      client.close();
      fresh.close();
    } finally {
      await gw.close();
      await upstream.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a reload naming an unreadable certificate is rejected and HTTPS keeps serving",
  ignore: !openssl,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "gateway_tls_" });
    const files = await makeCertificate(dir, "only");
    const gw = await startGateway(`server:\n  tls: {cert: "${files.cert}", key: "${files.key}"}\n`);
    try {
      const broken = await parseConfig(
        `server:\n  tls: {cert: "${dir}/missing.crt", key: "${files.key}"}\n`,
        { filename: "test.yaml", env: {} },
      );
      await assert.rejects(gw.server.reload(broken), /server\.tls\.cert: cannot read/);
      const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(files.ca)] });
      const res = await fetch(`${gw.url}/v1/info`, { client });
      assert.equal(res.status, 200);
      await res.body?.cancel();
      client.close();
    } finally {
      await gw.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
