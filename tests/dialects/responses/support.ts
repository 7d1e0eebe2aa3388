// What the Responses answer tests share: a request's context and the fixtures' reader.
import type { JsonObject } from "../../../src/core/json.ts";
import type { ResponseContext } from "../../../src/dialects/responses/context.ts";

/** The response id the tests' context gives. */
export const RESPONSE_ID = "resp_" + "0123456789abcdef".repeat(3);

/** When the tests' responses were created. */
export const CREATED_AT = 1_741_570_283;

/** A client's request: a function tool in a namespace, a custom tool, a plain function. */
export const REQUEST: JsonObject = {
  model: "gpt-5-codex",
  instructions: "You are a careful coding agent.",
  input: "Fix the bug in src/main.ts",
  tools: [
    {
      type: "namespace",
      name: "files",
      tools: [{ type: "function", name: "read", parameters: { type: "object" } }],
    },
    { type: "custom", name: "apply_patch", description: "Applies a patch" },
    { type: "function", name: "get_time", parameters: { type: "object" } },
  ],
  tool_choice: "auto",
  max_output_tokens: 2048,
  reasoning: { effort: "high", summary: "auto" },
  store: false,
  metadata: { session: "s-1" },
};

/** The context of a request (by default `REQUEST`) whose tools the hub knows by flat names. */
export function context(request: JsonObject = REQUEST): ResponseContext {
  return {
    id: RESPONSE_ID,
    createdAt: CREATED_AT,
    model: "gpt-5-codex",
    request,
    toolNames: new Map([
      ["files__read", { name: "read", namespace: "files" }],
      ["apply_patch", { name: "apply_patch", custom: true }],
    ]),
  };
}

/** The text of a file under tests/testdata/responses. */
export async function fixtureText(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`../../testdata/responses/${name}`, import.meta.url));
}

/** A JSON fixture under tests/testdata/responses. */
export async function fixture(name: string): Promise<JsonObject> {
  return JSON.parse(await fixtureText(name));
}
