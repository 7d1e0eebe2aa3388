// The command line as a user runs it: `deno run main.ts ...` in a directory of their choosing.
import assert from "node:assert/strict";
import { cleanEnv, DENO_JSON, runCli, startCli, testdata, withTempDir } from "./cli_support.ts";

const ORIGINAL_YAML = testdata("config/original.yaml");
const TYPO_YAML = testdata("cli/typo.yaml");

Deno.test("cli --help prints the usage and exits 0", () =>
  withTempDir(async (cwd) => {
    const result = await runCli(["--help"], { cwd });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage:/m);
    assert.match(result.stdout, /--config PATH/);
    assert.match(result.stdout, /--check/);
  }));

Deno.test("deno task start runs the gateway, with the V8 flags from v8_flags", async () => {
  // The task reads its --v8-flags with `$(cat v8_flags)`: a missing file or a flag V8 refuses
  // would stop it before main.ts runs.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", "--config", DENO_JSON, "start", "--check", "--config", ORIGINAL_YAML],
    env: cleanEnv({ OPENAI_API_KEY: "sk-task" }),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  assert.match(new TextDecoder().decode(output.stdout), /configuration OK/);
  assert.doesNotMatch(stderr, /V8|flag/i);
});

Deno.test("cli --check accepts a valid config and reports its 2 providers", () =>
  withTempDir(async (cwd) => {
    const result = await runCli(["--check", "--config", ORIGINAL_YAML], {
      cwd,
      env: { OPENAI_API_KEY: "sk-check" },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /configuration OK/);
    assert.match(result.stdout, /\b2 enabled provider\(s\): openai, vllm\b/);
    assert.ok(!result.stdout.includes("sk-check"), "--check printed the API key");
  }));

Deno.test("cli --check names the unset variable, its config path and line, and exits 1", () =>
  withTempDir(async (cwd) => {
    const result = await runCli(["--check", "--config", ORIGINAL_YAML], { cwd });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /OPENAI_API_KEY/);
    assert.match(result.stderr, /providers\[0\]\.api_key/);
    // api_key: "${OPENAI_API_KEY}" is on line 13 of original.yaml.
    assert.ok(
      result.stderr.includes(`${ORIGINAL_YAML}:13`),
      `no file:line in stderr:\n${result.stderr}`,
    );
  }));

Deno.test("cli --check suggests the right key for a typo, with its line, and exits 1", () =>
  withTempDir(async (cwd) => {
    const result = await runCli(["--check", "--config", TYPO_YAML], { cwd });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /did you mean "target_url"/);
    assert.match(result.stderr, /providers\[0\]\.target_ur\b/);
    assert.ok(
      result.stderr.includes(`${TYPO_YAML}:6`),
      `no file:line in stderr:\n${result.stderr}`,
    );
  }));

Deno.test("cli without config or keys serves the embedded default and stops cleanly on SIGTERM", () =>
  withTempDir(async (cwd) => {
    const gateway = await startCli(["--port", "0"], { cwd });
    let stopped = false;
    try {
      assert.match(gateway.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const notice = gateway.events().find((e) => /no provider/.test(String(e.message)));
      assert.ok(notice, "no log line saying that no provider is enabled");
      assert.deepEqual(notice["gateway.providers"], []);

      const response = await fetch(`${gateway.url}/v1/info`);
      assert.equal(response.status, 200);
      const info = await response.json();
      assert.equal(info.status, "ok");
      assert.deepEqual(info.providers, []);

      stopped = true;
      const result = await gateway.stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, "");
      assert.match(result.stdout, /shutting down/);
    } finally {
      if (!stopped) await gateway.stop("SIGKILL");
    }
  }));

Deno.test("cli with OPENAI_API_KEY and no config enables openai and never logs the key", () =>
  withTempDir(async (cwd) => {
    const gateway = await startCli(["--port", "0"], {
      cwd,
      env: { OPENAI_API_KEY: "sk-test" },
    });
    let stopped = false;
    try {
      const notice = gateway.events().find((e) => /embedded default/.test(String(e.message)));
      assert.ok(notice, "no log line about the embedded default");
      assert.match(String(notice.message), /\bopenai\b/);
      assert.deepEqual(notice["gateway.providers"], ["openai"]);

      const info = await (await fetch(`${gateway.url}/v1/info`)).text();
      assert.match(info, /"name":"openai"/);
      assert.ok(!info.includes("sk-test"), "/v1/info shows the API key");

      stopped = true;
      const result = await gateway.stop("SIGTERM");
      assert.equal(result.code, 0, result.stderr);
      assert.ok(!result.stdout.includes("sk-test"), "the log contains the API key");
      assert.ok(!result.stderr.includes("sk-test"), "stderr contains the API key");
    } finally {
      if (!stopped) await gateway.stop("SIGKILL");
    }
  }));
