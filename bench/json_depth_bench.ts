// The request-body depth check against the parse it guards: `deno bench bench/json_depth_bench.ts`.
import { nestsDeeperThan } from "../src/core/json.ts";

const PROSE = "The quick brown fox jumps over the lazy dog, and the dog said nothing about it. ";
const CODE = '```js\nconst x = [1, 2, 3];\nconsole.log("sum", x.reduce((a, b) => a + b));\n```\n';
const TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the weather for a city",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        unit: { type: "string", enum: ["c", "f"] },
      },
      required: ["city"],
    },
  },
};

function content(chars: number, code: boolean): string {
  const unit = code ? PROSE + CODE : PROSE;
  return unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
}

/** A chat body: a system prompt, `messages` turns of `chars` characters (every fifth with code). */
function chatBody(messages: number, chars: number, options: { tools?: number; code?: boolean }) {
  const turns: unknown[] = [{ role: "system", content: "You are a helpful assistant." }];
  for (let i = 0; i < messages; i++) {
    const code = options.code === true && i % 5 === 0;
    turns.push({ role: i % 2 ? "assistant" : "user", content: content(chars, code) });
  }
  const tools = options.tools ?? 0;
  const body: Record<string, unknown> = { model: "openai/gpt-4o", messages: turns, stream: true };
  if (tools > 0) body.tools = Array(tools).fill(TOOL);
  return JSON.stringify(body);
}

const BODIES: [string, string][] = [
  ["2 KB, 4 turns", chatBody(4, 400, {})],
  ["17 KB, 6 turns and 20 tools", chatBody(6, 2000, { tools: 20 })],
  ["1 MB, 100 turns of prose", chatBody(100, 10_000, {})],
  ["1 MB, 100 turns with code", chatBody(100, 10_000, { code: true })],
  ["1 MB, 1 turn with code", chatBody(1, 1_000_000, { code: true })],
  ["1 MB, 2000 short turns", chatBody(2000, 500, {})],
];

for (const [name, text] of BODIES) {
  Deno.bench(`JSON.parse: ${name}`, { group: name, baseline: true }, () => {
    JSON.parse(text);
  });
  Deno.bench(`depth check: ${name}`, { group: name }, () => {
    nestsDeeperThan(text, 128);
  });
}
