import assert from "node:assert/strict";
import type { JsonObject } from "../../../src/core/json.ts";
import { ResponsesRequestError } from "../../../src/dialects/responses/errors.ts";
import { responsesToChat, type ToChatOptions } from "../../../src/dialects/responses/to_chat.ts";
import { flatName } from "../../../src/dialects/responses/tools.ts";

async function fixture(name: string): Promise<JsonObject> {
  const url = new URL(`../../testdata/responses/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** A minimal valid request with `fields` set on top. */
function request(fields: JsonObject = {}): JsonObject {
  return { model: "gpt-5", input: "hi", ...fields };
}

const weather = {
  type: "function",
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

/** The Chat function tool a Responses function tool becomes, under `name`. */
function chatTool(name: string, parameters: JsonObject = weather.parameters): JsonObject {
  return { type: "function", function: { name, parameters } };
}

function call(id: string, name: string, args: string): JsonObject {
  return { id, type: "function", function: { name, arguments: args } };
}

/** The names of the Chat tools of a translated request. */
function toolNames(body: JsonObject): string[] {
  return (body.tools as { function: { name: string } }[]).map((tool) => tool.function.name);
}

/** Asserts that translating `body` is refused with a 400 naming `field`. */
function assertRefused(
  body: unknown,
  field: string,
  why?: RegExp,
  options?: ToChatOptions,
): void {
  assert.throws(
    () => responsesToChat(body, options),
    (err: unknown) => {
      assert.ok(err instanceof ResponsesRequestError, `not a ResponsesRequestError: ${err}`);
      assert.equal(err.field, field);
      assert.equal(err.status, 400);
      assert.ok(err.message.startsWith(`${field}: `), err.message);
      if (why) assert.match(err.message, why);
      return true;
    },
  );
}

Deno.test("a Codex request translates to a Chat request with flattened and custom tools", async () => {
  const body = await fixture("request_codex.json");
  const frozen = structuredClone(body);
  const { body: chat, toolNames: names, dropped } = responsesToChat(body, {
    supportsReasoningEffort: true,
  });
  const shell = (body.tools as JsonObject[])[0]!;
  assert.deepEqual(chat, {
    model: "gpt-5-codex",
    messages: [
      { role: "system", content: "You are Codex, a coding agent running in the Codex CLI." },
      {
        role: "system",
        content:
          "<permissions instructions>Filesystem sandboxing: workspace-write.</permissions instructions>",
      },
      {
        role: "user",
        content:
          "<environment_context>\n  <cwd>/home/dev/app</cwd>\n  <shell>bash</shell>\n</environment_context>",
      },
      { role: "user", content: "The parser test fails. Fix it." },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          call(
            "call_shell_1",
            "shell",
            '{"command":["deno","test","parser_test.ts"],"workdir":"/home/dev/app"}',
          ),
        ],
      },
      {
        role: "tool",
        tool_call_id: "call_shell_1",
        content: '{"output":"FAILED parser_test.ts: expected 3, got 2","metadata":{"exit_code":1}}',
      },
      {
        role: "assistant",
        content: "The test expects three tokens. Checking the issue first.",
        tool_calls: [call("call_issue_1", "mcp__github__get_issue", '{"number":42}')],
      },
      {
        role: "tool",
        tool_call_id: "call_issue_1",
        content: "Issue 42: the tokenizer drops the last token.",
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          call(
            "call_patch_1",
            "apply_patch",
            JSON.stringify({
              input: "*** Begin Patch\n*** Update File: src/tokenizer.ts\n@@\n" +
                "-  return tokens.slice(0, -1);\n+  return tokens;\n*** End Patch\n",
            }),
          ),
        ],
      },
      {
        role: "tool",
        tool_call_id: "call_patch_1",
        content: "Success. Updated the following files:\nM src/tokenizer.ts\n",
      },
    ],
    tools: [
      {
        type: "function",
        function: {
          name: "shell",
          description: "Runs a shell command and returns its output.",
          parameters: shell.parameters,
          strict: false,
        },
      },
      {
        type: "function",
        function: {
          name: "mcp__github__get_issue",
          description: "Gets an issue by its number.",
          parameters: {
            type: "object",
            properties: { number: { type: "integer" } },
            required: ["number"],
          },
        },
      },
      {
        type: "function",
        function: {
          name: "mcp__github__list_pull_requests",
          parameters: { type: "object", properties: {} },
        },
      },
      {
        type: "function",
        function: {
          name: "apply_patch",
          description: "Use the `apply_patch` tool to edit files.",
          parameters: {
            type: "object",
            properties: {
              input: {
                type: "string",
                description: "The input must follow this lark grammar:\n" +
                  'start: begin_patch hunk+ end_patch\nbegin_patch: "*** Begin Patch" LF\n' +
                  'end_patch: "*** End Patch" LF?',
              },
            },
            required: ["input"],
            additionalProperties: false,
          },
        },
      },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning_effort: "medium",
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.deepEqual(
    names,
    new Map([
      ["mcp__github__get_issue", { name: "get_issue", namespace: "mcp__github" }],
      ["mcp__github__list_pull_requests", { name: "list_pull_requests", namespace: "mcp__github" }],
      ["apply_patch", { name: "apply_patch", custom: true }],
    ]),
  );
  assert.deepEqual(dropped.toSorted(), [
    "client_metadata",
    "include",
    "prompt_cache_key",
    "reasoning items",
    "reasoning.summary",
    "store",
    "text.verbosity",
    "tools.namespace.description",
    "tools.web_search",
  ]);
  assert.deepEqual(body, frozen, "the request body was modified");
});

Deno.test("reasoning effort is dropped for a target that does not take it", async () => {
  const { body, dropped } = responsesToChat(await fixture("request_codex.json"));
  assert.equal(body.reasoning_effort, undefined);
  assert.ok(dropped.includes("reasoning.effort"), dropped.join());
  assert.ok(dropped.includes("reasoning.summary"), dropped.join());
});

Deno.test("messages with images, files, refusals and a JSON schema translate to Chat", async () => {
  const body = await fixture("request_media.json");
  const { body: chat, toolNames: names, dropped } = responsesToChat(body, {
    maxOutputTokens: 32768,
  });
  assert.deepEqual(chat, {
    model: "gpt-4.1",
    messages: [
      { role: "system", content: "Answer as JSON." },
      { role: "system", content: "You review receipts." },
      {
        role: "system",
        content: [
          { type: "text", text: "Amounts in euros." },
          { type: "text", text: "Dates as ISO 8601." },
        ],
      },
      {
        role: "user",
        content: [
          { type: "text", text: "What do these show?" },
          {
            type: "image_url",
            image_url: { url: "https://example.com/receipt.jpg", detail: "low" },
          },
          {
            type: "image_url",
            image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
          },
          {
            type: "file",
            file: { filename: "march.pdf", file_data: "data:application/pdf;base64,JVBERi0x" },
          },
        ],
      },
      {
        role: "assistant",
        content: [
          { type: "text", text: "Two receipts and a statement." },
          { type: "text", text: "I will not read the card number." },
        ],
      },
      { role: "user", content: "Total them." },
    ],
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "receipt_total",
        description: "The sum of the receipts.",
        strict: true,
        schema: {
          type: "object",
          properties: { total: { type: "number" } },
          required: ["total"],
          additionalProperties: false,
        },
      },
    },
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 32768,
    user: "user-7f3a",
  });
  assert.equal(names.size, 0);
  assert.deepEqual(dropped.toSorted(), ["metadata", "store"]);
});

Deno.test("a string input becomes one user message after the instructions", () => {
  const { body, dropped } = responsesToChat(request({ instructions: "Be brief.", stream: false }));
  assert.deepEqual(body, {
    model: "gpt-5",
    messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }],
  });
  assert.deepEqual(dropped, []);
});

Deno.test("earlier turns' items go before the input, the instructions before both", () => {
  const history = [
    { type: "message", role: "user", content: [{ type: "input_text", text: "Weather in Oslo?" }] },
    { type: "reasoning", id: "rs_1", summary: [], encrypted_content: "gAAA" },
    {
      type: "message",
      id: "msg_1",
      status: "completed",
      role: "assistant",
      content: [{
        type: "output_text",
        text: "Checking.",
        annotations: [{ type: "url_citation", url: "https://met.no", start_index: 0 }],
      }],
    },
    {
      type: "function_call",
      id: "fc_1",
      status: "completed",
      call_id: "call_1",
      name: "get_weather",
      arguments: '{"city":"Oslo"}',
    },
  ];
  const input = [{ type: "function_call_output", call_id: "call_1", output: "4°C, rain" }];
  const { body, dropped } = responsesToChat(
    request({ instructions: "You forecast.", input, tools: [weather] }),
    { history },
  );
  assert.deepEqual(body.messages, [
    { role: "system", content: "You forecast." },
    { role: "user", content: "Weather in Oslo?" },
    {
      role: "assistant",
      content: "Checking.",
      tool_calls: [call("call_1", "get_weather", '{"city":"Oslo"}')],
    },
    { role: "tool", tool_call_id: "call_1", content: "4°C, rain" },
  ]);
  assert.deepEqual(dropped, ["reasoning items"]);
});

Deno.test("parallel calls join one assistant message; calls after outputs start another", () => {
  const fc = (id: string, city: string) => ({
    type: "function_call",
    call_id: id,
    name: "get_weather",
    arguments: JSON.stringify({ city }),
  });
  const out = (id: string, output: string) => ({
    type: "function_call_output",
    call_id: id,
    output,
  });
  const { body } = responsesToChat(request({
    tools: [weather],
    input: [
      { role: "user", content: "Oslo, Bergen, then Tromsø." },
      fc("c1", "Oslo"),
      fc("c2", "Bergen"),
      out("c1", "4°C"),
      out("c2", "7°C"),
      { role: "assistant", content: "Now Tromsø." },
      { type: "reasoning", id: "rs_1", summary: [] },
      fc("c3", "Tromsø"),
      out("c3", "-2°C"),
      { role: "assistant", content: [] },
      fc("c4", "Oslo"),
    ],
  }));
  assert.deepEqual(body.messages, [
    { role: "user", content: "Oslo, Bergen, then Tromsø." },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        call("c1", "get_weather", '{"city":"Oslo"}'),
        call("c2", "get_weather", '{"city":"Bergen"}'),
      ],
    },
    { role: "tool", tool_call_id: "c1", content: "4°C" },
    { role: "tool", tool_call_id: "c2", content: "7°C" },
    {
      role: "assistant",
      content: "Now Tromsø.",
      tool_calls: [call("c3", "get_weather", '{"city":"Tromsø"}')],
    },
    { role: "tool", tool_call_id: "c3", content: "-2°C" },
    {
      role: "assistant",
      content: null,
      tool_calls: [call("c4", "get_weather", '{"city":"Oslo"}')],
    },
  ]);
});

Deno.test("images and files a tool returned follow its tool message in a user message", () => {
  const { body } = responsesToChat(request({
    tools: [weather],
    input: [
      { type: "function_call", call_id: "c1", name: "get_weather", arguments: "{}" },
      { type: "function_call", call_id: "c2", name: "get_weather", arguments: "{}" },
      {
        type: "function_call_output",
        call_id: "c1",
        output: [
          { type: "input_text", text: "Radar:" },
          { type: "input_image", image_url: "https://example.com/radar.png" },
        ],
      },
      {
        type: "function_call_output",
        call_id: "c2",
        output: [
          { type: "input_file", filename: "report.pdf", file_data: "JVBERi0x" },
          { type: "input_image", image_url: "data:image/png;base64,AAAA", detail: "original" },
        ],
      },
      { role: "user", content: "Summarise." },
    ],
  }));
  assert.deepEqual(body.messages, [
    {
      role: "assistant",
      content: null,
      tool_calls: [call("c1", "get_weather", "{}"), call("c2", "get_weather", "{}")],
    },
    {
      role: "tool",
      tool_call_id: "c1",
      content: "Radar:\n(1 attachment follows in the next user message)",
    },
    {
      role: "tool",
      tool_call_id: "c2",
      content: "(2 attachments follow in the next user message)",
    },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "https://example.com/radar.png" } },
        {
          type: "file",
          file: { filename: "report.pdf", file_data: "data:application/pdf;base64,JVBERi0x" },
        },
        { type: "image_url", image_url: { url: "data:image/png;base64,AAAA", detail: "high" } },
      ],
    },
    { role: "user", content: "Summarise." },
  ]);
});

Deno.test("a flattened name keeps OpenAI's function-name rule and never collides", () => {
  const rule = /^[a-zA-Z0-9_-]{1,64}$/;
  assert.equal(flatName("mcp__github", "get_issue", new Set()), "mcp__github__get_issue");
  const long = flatName("mcp__" + "a".repeat(50), "list_everything_in_the_repository", new Set());
  assert.match(long, rule);
  assert.equal(long.length, 64);
  assert.match(long, /^mcp__a{50}_[0-9a-f]{8}$/);
  assert.equal(
    long,
    flatName("mcp__" + "a".repeat(50), "list_everything_in_the_repository", new Set()),
  );
  const other = flatName("mcp__" + "a".repeat(50), "list_everything_in_the_repositorx", new Set());
  assert.notEqual(other, long);
  const dotted = flatName("files.v2", "read", new Set());
  assert.match(dotted, /^files_v2__read_[0-9a-f]{8}$/);
  const taken = flatName("web", "search", new Set(["web__search"]));
  assert.match(taken, /^web__search_[0-9a-f]{8}$/);
});

Deno.test("namespaced tools are named so that they cannot take the client's own names", () => {
  const params = { type: "object", properties: {} };
  const fn = (name: string) => ({ type: "function", name, parameters: params });
  const { body, toolNames: names } = responsesToChat(request({
    tools: [
      { type: "namespace", name: "crm", tools: [fn("find"), fn("update")] },
      fn("crm__find"),
      { type: "namespace", name: "crm.eu", tools: [fn("find")] },
    ],
    input: [
      { type: "function_call", call_id: "c1", namespace: "crm", name: "find", arguments: "{}" },
      { type: "function_call", call_id: "c2", name: "crm__find", arguments: "{}" },
      { type: "function_call", call_id: "c3", namespace: "crm.eu", name: "find", arguments: "{}" },
      { type: "function_call", call_id: "c4", namespace: "billing", name: "pay", arguments: "{}" },
    ],
  }));
  const hub = toolNames(body);
  assert.equal(hub.length, 4);
  assert.equal(new Set(hub).size, 4, `names collide: ${hub}`);
  for (const name of hub) assert.match(name, /^[a-zA-Z0-9_-]{1,64}$/);
  const [crmFind, crmUpdate, own, euFind] = hub;
  assert.equal(own, "crm__find");
  assert.equal(crmUpdate, "crm__update");
  assert.match(crmFind!, /^crm__find_[0-9a-f]{8}$/);
  assert.match(euFind!, /^crm_eu__find_[0-9a-f]{8}$/);
  assert.deepEqual(names.get(crmFind!), { name: "find", namespace: "crm" });
  assert.deepEqual(names.get(euFind!), { name: "find", namespace: "crm.eu" });
  assert.equal(names.has("crm__find"), false);
  const calls = (body.messages as JsonObject[])[0]!.tool_calls as JsonObject[];
  const called = calls.map((c) => (c.function as JsonObject).name);
  // A call to a tool no longer offered gets the name the rule gives it alone.
  assert.deepEqual(called, [crmFind, "crm__find", euFind, "billing__pay"]);
});

Deno.test("custom tools become functions taking a string input", () => {
  const { body, toolNames: names } = responsesToChat(request({
    tools: [
      { type: "custom", name: "sql" },
      {
        type: "custom",
        name: "timestamp",
        format: { type: "grammar", syntax: "regex", definition: "^\\d{4}-\\d{2}-\\d{2}$" },
      },
      { type: "custom", name: "notes", format: { type: "text" } },
      {
        type: "namespace",
        name: "db",
        description: "The database.",
        tools: [{ type: "custom", name: "query", description: "Runs SQL." }],
      },
    ],
    input: [
      { role: "user", content: "How many users?" },
      { type: "custom_tool_call", call_id: "c1", name: "sql", input: "SELECT count(*) FROM users" },
      { type: "custom_tool_call_output", call_id: "c1", output: "42" },
      {
        type: "custom_tool_call",
        call_id: "c2",
        namespace: "db",
        name: "query",
        input: "SELECT 1",
      },
    ],
  }));
  const takesInput = (description?: string): JsonObject => ({
    type: "object",
    properties: { input: description ? { type: "string", description } : { type: "string" } },
    required: ["input"],
    additionalProperties: false,
  });
  assert.deepEqual(body.tools, [
    { type: "function", function: { name: "sql", parameters: takesInput() } },
    {
      type: "function",
      function: {
        name: "timestamp",
        parameters: takesInput(
          "The input must match this regular expression:\n^\\d{4}-\\d{2}-\\d{2}$",
        ),
      },
    },
    { type: "function", function: { name: "notes", parameters: takesInput() } },
    {
      type: "function",
      function: { name: "db__query", description: "Runs SQL.", parameters: takesInput() },
    },
  ]);
  assert.deepEqual(names.get("sql"), { name: "sql", custom: true });
  assert.deepEqual(names.get("db__query"), { name: "query", namespace: "db", custom: true });
  assert.deepEqual((body.messages as JsonObject[]).slice(1), [
    {
      role: "assistant",
      content: null,
      tool_calls: [call("c1", "sql", '{"input":"SELECT count(*) FROM users"}')],
    },
    { role: "tool", tool_call_id: "c1", content: "42" },
    {
      role: "assistant",
      content: null,
      tool_calls: [call("c2", "db__query", '{"input":"SELECT 1"}')],
    },
  ]);
});

Deno.test("tool_choice variants map to Chat's, named tools to their hub names", () => {
  const tools = [
    weather,
    { type: "custom", name: "sql" },
    { type: "namespace", name: "crm", tools: [{ type: "function", name: "find" }] },
  ];
  const cases: [unknown, unknown][] = [
    ["auto", "auto"],
    ["none", "none"],
    ["required", "required"],
    [{ type: "function", name: "get_weather" }, {
      type: "function",
      function: { name: "get_weather" },
    }],
    [{ type: "function", name: "find" }, { type: "function", function: { name: "crm__find" } }],
    [{ type: "custom", name: "sql" }, { type: "function", function: { name: "sql" } }],
  ];
  for (const [choice, expected] of cases) {
    const { body } = responsesToChat(request({ tools, tool_choice: choice }));
    assert.deepEqual(body.tool_choice, expected, JSON.stringify(choice));
    assert.equal(body.tools && (body.tools as unknown[]).length, 3);
  }
});

Deno.test("allowed_tools narrows the tools to those allowed, with its mode", () => {
  const tools = [
    weather,
    { type: "custom", name: "sql" },
    {
      type: "namespace",
      name: "crm",
      tools: [{ type: "function", name: "find" }, { type: "function", name: "update" }],
    },
    { type: "image_generation" },
  ];
  const allowed = (mode: string, list: unknown[]) =>
    responsesToChat(request({
      tools,
      tool_choice: { type: "allowed_tools", mode, tools: list },
      parallel_tool_calls: true,
    })).body;
  const required = allowed("required", [
    { type: "function", name: "get_weather" },
    { type: "image_generation" },
  ]);
  assert.deepEqual(toolNames(required), ["get_weather"]);
  assert.equal(required.tool_choice, "required");
  assert.equal(required.parallel_tool_calls, true);
  const auto = allowed("auto", [{ type: "namespace", name: "crm" }, {
    type: "custom",
    name: "sql",
  }]);
  assert.deepEqual(toolNames(auto), ["sql", "crm__find", "crm__update"]);
  assert.equal(auto.tool_choice, "auto");
  const none = responsesToChat(request({
    tools,
    tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "image_generation" }] },
    parallel_tool_calls: false,
  }));
  assert.equal(none.body.tools, undefined);
  assert.equal(none.body.tool_choice, undefined);
  assert.equal(none.body.parallel_tool_calls, undefined);
  assert.ok(none.dropped.includes("tool_choice"));
  assert.ok(none.dropped.includes("parallel_tool_calls"));
});

Deno.test("built-in tools are left out and listed; choices without tools are dropped", () => {
  const { body, dropped } = responsesToChat(request({
    tools: [
      { type: "web_search_preview" },
      { type: "file_search", vector_store_ids: ["vs_1"] },
      { type: "computer_use_preview", display_width: 1024, display_height: 768 },
      { type: "code_interpreter", container: { type: "auto" } },
      { type: "image_generation" },
      { type: "mcp", server_label: "deepwiki", server_url: "https://mcp.deepwiki.com/mcp" },
      { type: "local_shell" },
      { type: "apply_patch" },
    ],
    tool_choice: "auto",
    parallel_tool_calls: true,
  }));
  assert.equal(body.tools, undefined);
  assert.equal(body.tool_choice, undefined);
  assert.equal(body.parallel_tool_calls, undefined);
  assert.deepEqual(dropped.toSorted(), [
    "parallel_tool_calls",
    "tool_choice",
    "tools.apply_patch",
    "tools.code_interpreter",
    "tools.computer_use_preview",
    "tools.file_search",
    "tools.image_generation",
    "tools.local_shell",
    "tools.mcp",
    "tools.web_search_preview",
  ]);
  const kept = responsesToChat(request({ tools: [{ type: "web_search" }, weather] }));
  assert.deepEqual(kept.body.tools, [chatTool("get_weather")]);
  assert.deepEqual(kept.dropped, ["tools.web_search"]);
});

Deno.test("max_output_tokens is lowered to the target's output limit", () => {
  const asked = (max: number, options?: ToChatOptions) =>
    responsesToChat(request({ max_output_tokens: max }), options).body.max_tokens;
  assert.equal(asked(64000), 64000);
  assert.equal(asked(64000, { maxOutputTokens: 16384 }), 16384);
  assert.equal(asked(500, { maxOutputTokens: 16384 }), 500);
  assert.equal(responsesToChat(request(), { maxOutputTokens: 16384 }).body.max_tokens, undefined);
});

Deno.test("text formats: plain text asks for nothing, json_object for a JSON object", () => {
  const plain = responsesToChat(request({ text: { format: { type: "text" }, verbosity: "low" } }));
  assert.equal(plain.body.response_format, undefined);
  assert.deepEqual(plain.dropped, ["text.verbosity"]);
  const json = responsesToChat(request({ text: { format: { type: "json_object" } } }));
  assert.deepEqual(json.body.response_format, { type: "json_object" });
  const schema = responsesToChat(request({
    text: { format: { type: "json_schema", name: "answer", schema: { type: "object" } } },
  }));
  assert.deepEqual(schema.body.response_format, {
    type: "json_schema",
    json_schema: { name: "answer", schema: { type: "object" } },
  });
});

Deno.test("user and safety_identifier become Chat's user, unless too long", () => {
  assert.equal(responsesToChat(request({ user: "u-1" })).body.user, "u-1");
  const both = responsesToChat(request({ user: "u-1", safety_identifier: "hash-1" }));
  assert.equal(both.body.user, "hash-1");
  assert.deepEqual(both.dropped, ["user"]);
  const long = responsesToChat(request({ safety_identifier: "h".repeat(65) }));
  assert.equal(long.body.user, undefined);
  assert.deepEqual(long.dropped, ["safety_identifier"]);
});

Deno.test("fields that only tune OpenAI's service are dropped and listed, never refused", () => {
  const { body, dropped } = responsesToChat(request({
    store: true,
    metadata: { a: "b" },
    include: ["message.output_text.logprobs"],
    prompt_cache_key: "k",
    client_metadata: { session_id: "s" },
    truncation: "auto",
    service_tier: "flex",
    top_logprobs: 5,
    max_tool_calls: 3,
    stream_options: { include_obfuscation: false },
    background: false,
    previous_response_id: "resp_1",
    future_field: { x: 1 },
    unset_field: null,
  }));
  assert.deepEqual(body, { model: "gpt-5", messages: [{ role: "user", content: "hi" }] });
  assert.deepEqual(dropped.toSorted(), [
    "client_metadata",
    "future_field",
    "include",
    "max_tool_calls",
    "metadata",
    "prompt_cache_key",
    "service_tier",
    "store",
    "stream_options",
    "top_logprobs",
    "truncation",
  ]);
});

Deno.test("web search calls a native turn left in the conversation are dropped", () => {
  const { body, dropped } = responsesToChat(request({
    input: [
      { role: "user", content: "News today?" },
      { type: "web_search_call", id: "ws_1", status: "completed", action: { type: "search" } },
      { role: "assistant", content: [{ type: "output_text", text: "Rain.", annotations: [] }] },
      { role: "user", content: "Thanks." },
    ],
  }));
  assert.deepEqual(body.messages, [
    { role: "user", content: "News today?" },
    { role: "assistant", content: "Rain." },
    { role: "user", content: "Thanks." },
  ]);
  assert.deepEqual(dropped, ["web_search_call items"]);
});

Deno.test("features the translation cannot offer are refused naming the field", () => {
  assertRefused(request({ background: true }), "background", /background mode/);
  assertRefused(request({ conversation: "conv_1" }), "conversation");
  assertRefused(request({ prompt: { id: "pmpt_1", version: "2" } }), "prompt", /prompt templates/);
  assertRefused(
    request({ input: [{ type: "item_reference", id: "msg_1" }] }),
    "input[0].type",
    /cannot be resolved/,
  );
  assertRefused(
    request({ input: [{ role: "user", content: "a" }, { type: "computer_call", id: "cu_1" }] }),
    "input[1].type",
    /"computer_call"/,
  );
  const image = (part: JsonObject) => request({ input: [{ role: "user", content: [part] }] });
  assertRefused(
    image({ type: "input_image", file_id: "file-1", detail: "auto" }),
    "input[0].content[0].file_id",
    /file id/,
  );
  assertRefused(
    image({ type: "input_file", file_id: "file-1" }),
    "input[0].content[0].file_id",
  );
  assertRefused(
    image({ type: "input_file", file_url: "https://example.com/a.pdf" }),
    "input[0].content[0].file_url",
  );
  assertRefused(
    image({ type: "input_file", filename: "a.txt", file_data: "aGVsbG8=" }),
    "input[0].content[0].file_data",
    /data URL/,
  );
  assertRefused(
    request({
      tools: [{ type: "web_search_preview" }, weather],
      tool_choice: { type: "web_search_preview" },
    }),
    "tool_choice",
    /built-in/,
  );
  assertRefused(
    request({ tools: [{ type: "mcp", server_label: "x" }], tool_choice: { type: "mcp" } }),
    "tool_choice",
  );
  assertRefused(
    request({ tools: [{ type: "file_search" }], tool_choice: "required" }),
    "tool_choice",
    /built-in/,
  );
  assertRefused(
    request({
      tools: [weather, { type: "code_interpreter" }],
      tool_choice: {
        type: "allowed_tools",
        mode: "required",
        tools: [{ type: "code_interpreter" }],
      },
    }),
    "tool_choice",
  );
});

Deno.test("invalid requests are refused naming the field's path", () => {
  const input = (...items: unknown[]) => request({ input: items });
  const user = (content: unknown) => input({ role: "user", content });
  assertRefused("hello", "body");
  assertRefused(request({ model: 3 }), "model");
  assertRefused(request({ model: "" }), "model");
  assertRefused({ model: "gpt-5" }, "input", /required/);
  assertRefused(request({ input: [] }), "input", /empty/);
  assertRefused(request({ input: 5 }), "input");
  assertRefused(request({ instructions: ["x"] }), "instructions");
  assertRefused(input("hi"), "input[0]");
  assertRefused(input({ content: "no role" }), "input[0].type");
  assertRefused(input({ role: "tool", content: "x" }), "input[0].role");
  assertRefused(user(7), "input[0].content");
  assertRefused(user([{ type: "output_text", text: "x" }]), "input[0].content[0].type", /user/);
  assertRefused(user([{ text: "no type" }]), "input[0].content[0].type");
  assertRefused(user([{ type: "input_text" }]), "input[0].content[0].text");
  assertRefused(
    input({ role: "developer", content: [{ type: "input_image", image_url: "https://x/a.png" }] }),
    "input[0].content[0].type",
    /system message/,
  );
  assertRefused(
    input({ role: "assistant", content: [{ type: "input_image", image_url: "https://x" }] }),
    "input[0].content[0].type",
  );
  assertRefused(
    user([{ type: "input_image", image_url: "https://x/a.png", detail: "max" }]),
    "input[0].content[0].detail",
  );
  assertRefused(user([{ type: "input_image" }]), "input[0].content[0].image_url");
  assertRefused(
    input({ type: "function_call", name: "f", arguments: "{}" }),
    "input[0].call_id",
  );
  assertRefused(
    input({ type: "function_call", call_id: "c", name: "f", arguments: { a: 1 } }),
    "input[0].arguments",
  );
  assertRefused(
    input({ type: "function_call", call_id: "c", name: "f", arguments: "{}", namespace: 1 }),
    "input[0].namespace",
  );
  assertRefused(input({ type: "function_call_output", call_id: "c" }), "input[0].output");
  assertRefused(input({ type: "function_call_output", output: "x" }), "input[0].call_id");
  assertRefused(
    input({ type: "function_call_output", call_id: "c", output: [{ type: "refusal" }] }),
    "input[0].output[0].type",
  );
  assertRefused(
    input({ type: "custom_tool_call", call_id: "c", name: "sql", input: { q: 1 } }),
    "input[0].input",
  );
  assertRefused(request({ tools: {} }), "tools");
  assertRefused(request({ tools: [{ name: "f" }] }), "tools[0].type");
  assertRefused(request({ tools: [{ type: "function" }] }), "tools[0].name");
  assertRefused(
    request({ tools: [{ type: "function", name: "f", parameters: "none" }] }),
    "tools[0].parameters",
  );
  assertRefused(
    request({ tools: [{ type: "function", name: "f", strict: "yes" }] }),
    "tools[0].strict",
  );
  assertRefused(
    request({ tools: [{ type: "namespace", name: "n", tools: [{ type: "web_search" }] }] }),
    "tools[0].tools[0].type",
  );
  assertRefused(request({ tools: [{ type: "namespace", name: "n" }] }), "tools[0].tools");
  assertRefused(
    request({ tools: [{ type: "namespace", name: "", tools: [] }] }),
    "tools[0].name",
  );
  assertRefused(
    request({ tools: [{ type: "custom", name: "c", format: { type: "json" } }] }),
    "tools[0].format.type",
  );
  assertRefused(
    request({
      tools: [{ type: "custom", name: "c", format: { type: "grammar", syntax: "lark" } }],
    }),
    "tools[0].format.definition",
  );
  assertRefused(request({ tools: [weather], tool_choice: "any" }), "tool_choice");
  assertRefused(request({ tools: [weather], tool_choice: {} }), "tool_choice.type");
  assertRefused(
    request({ tools: [weather], tool_choice: { type: "function", name: "get_time" } }),
    "tool_choice.name",
    /get_time/,
  );
  assertRefused(
    request({ tools: [weather], tool_choice: { type: "custom", name: "get_weather" } }),
    "tool_choice.name",
  );
  assertRefused(
    request({
      tools: [
        { type: "namespace", name: "a", tools: [{ type: "function", name: "find" }] },
        { type: "namespace", name: "b", tools: [{ type: "function", name: "find" }] },
      ],
      tool_choice: { type: "function", name: "find" },
    }),
    "tool_choice.name",
    /more than one namespace/,
  );
  assertRefused(
    request({ tools: [weather], tool_choice: { type: "allowed_tools", mode: "any", tools: [] } }),
    "tool_choice.mode",
  );
  assertRefused(
    request({
      tools: [weather],
      tool_choice: { type: "allowed_tools", mode: "auto", tools: [{ type: "function" }] },
    }),
    "tool_choice.tools[0].name",
  );
  assertRefused(request({ tool_choice: "required" }), "tool_choice", /function tool/);
  assertRefused(request({ tools: [weather], parallel_tool_calls: "no" }), "parallel_tool_calls");
  assertRefused(request({ temperature: "warm" }), "temperature");
  assertRefused(request({ top_p: null, max_output_tokens: 0 }), "max_output_tokens");
  assertRefused(request({ stream: "yes" }), "stream");
  assertRefused(request({ reasoning: "high" }), "reasoning");
  assertRefused(request({ reasoning: { effort: 3 } }), "reasoning.effort");
  assertRefused(request({ text: { format: { type: "xml" } } }), "text.format.type");
  assertRefused(
    request({ text: { format: { type: "json_schema", schema: { type: "object" } } } }),
    "text.format.name",
  );
  assertRefused(
    request({ text: { format: { type: "json_schema", name: "a" } } }),
    "text.format.schema",
  );
  assertRefused(request({ user: 42 }), "user");
  assertRefused(request({ background: "no" }), "background");
});

Deno.test("a bad item of an earlier turn is refused naming where it came from", () => {
  assertRefused(request(), "previous_response_id.items[1].type", /"mcp_call"/, {
    history: [{ role: "user", content: "a" }, { type: "mcp_call", id: "mcp_1" }],
  });
});
