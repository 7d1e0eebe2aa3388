// The official openai SDK, a test-only dependency: imported here by its full specifier so that
// deno.json's import map, and so `deno task start`, carry only what the gateway runs.
export { default as OpenAI } from "npm:openai@^6.0.0";
export type { ChatCompletionCreateParamsNonStreaming } from "npm:openai@^6.0.0/resources/chat/completions";
