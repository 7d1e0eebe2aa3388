import { z } from "zod";
import { GatewayError } from "../core/errors.ts";
import type { JsonObject } from "../core/json.ts";
import type { Endpoint } from "../core/provider.ts";

/** Fields the gateway itself reads; everything else passes through untouched. */
const common = {
  model: z.string().min(1).optional(),
  models: z.array(z.string().min(1)).max(16).optional(),
  stream: z.boolean().nullable().optional(),
  stream_options: z.looseObject({}).nullable().optional(),
};

const SCHEMAS: Record<Endpoint, z.ZodType> = {
  chat: z.looseObject({
    ...common,
    messages: z.array(z.looseObject({ role: z.string() })).min(1),
  }),
  completions: z.looseObject({
    ...common,
    prompt: z.union([z.string(), z.array(z.unknown())]),
  }),
  embeddings: z.looseObject({
    ...common,
    stream: z.undefined({ error: "embeddings cannot be streamed" }).optional(),
    input: z.union([z.string(), z.array(z.unknown()).min(1)]),
  }),
  // Anthropic's Messages API: what routing needs; the rest is checked where it is translated.
  messages: z.looseObject({
    ...common,
    messages: z.array(z.looseObject({ role: z.string() })).min(1),
    max_tokens: z.number().int().positive(),
  }),
  count_tokens: z.looseObject({
    ...common,
    stream: z.undefined({ error: "a token count cannot be streamed" }).optional(),
    messages: z.array(z.looseObject({ role: z.string() })).min(1),
  }),
  // OpenAI's Responses API: items are checked where they are translated or relayed.
  responses: z.looseObject({
    ...common,
    input: z.union([z.string(), z.array(z.unknown())]).optional(),
    previous_response_id: z.string().min(1).nullable().optional(),
    store: z.boolean().nullable().optional(),
  }),
};

/** What the gateway needs from a validated request. */
export interface RoutedRequest {
  model: string;
  fallbacks: string[];
  stream: boolean;
}

/**
 * Checks the fields the gateway relies on and strips gateway-only ones (`models`).
 * The body object is kept (not copied) so it is serialised once per target.
 */
export function validateRequest(endpoint: Endpoint, body: JsonObject): RoutedRequest {
  // The common, well-formed request skips the schema; zod runs when something looks off, to
  // name the field precisely.
  const result = looksValid(endpoint, body) ? undefined : SCHEMAS[endpoint].safeParse(body);
  if (result !== undefined && !result.success) {
    const issue = result.error.issues[0]!;
    const param = issue.path.map(String).join(".") || null;
    throw new GatewayError(
      "invalid_request",
      `${param ?? "body"}: ${issue.message}`,
      { param },
    );
  }
  const fallbacks = (body.models as string[] | undefined) ?? [];
  if (typeof body.model === "string") checkModelName(body.model, "model");
  for (let i = 0; i < fallbacks.length; i++) checkModelName(fallbacks[i]!, `models.${i}`);
  delete body.models;
  const model = typeof body.model === "string" ? body.model : fallbacks.shift();
  if (model === undefined) {
    throw new GatewayError(
      "invalid_request",
      'you must provide a model parameter, e.g. "model": "openai/gpt-4o"',
      { param: "model" },
    );
  }
  return { model, fallbacks, stream: body.stream === true };
}

/** Longest model name accepted, its `provider/` prefix included. */
const MAX_MODEL_LENGTH = 256;
/**
 * Characters a model name never has, and a header or URL path cannot carry as they are: C0 and
 * C1 controls, DEL, and the line and paragraph separators.
 */
const UNSAFE_CHAR = /[\p{Cc}\u2028\u2029]/u;
/** A `.` or `..` segment, which URL resolution would turn into another upstream path. */
const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

/**
 * Refuses a model name before anything is sent: the name travels in URL paths (Azure, Gemini)
 * and in the gateway's own response headers.
 */
function checkModelName(name: string, param: string): void {
  const why = modelNameFault(name);
  if (why !== undefined) {
    throw new GatewayError("invalid_request", `${param}: the model name ${why}`, { param });
  }
}

function modelNameFault(name: string): string | undefined {
  if (name.length > MAX_MODEL_LENGTH) {
    return `is ${name.length} characters long; the limit is ${MAX_MODEL_LENGTH}`;
  }
  if (!name.isWellFormed()) return "is not well-formed Unicode (it has a lone surrogate)";
  const unsafe = UNSAFE_CHAR.exec(name);
  if (unsafe !== null) {
    const code = unsafe[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
    return `has a control or line-break character (U+${code}) at index ${unsafe.index}`;
  }
  if (name.includes(".") && DOT_SEGMENT.test(name)) {
    return `${JSON.stringify(name)} has a "." or ".." segment, which no model is named`;
  }
  return undefined;
}

/** A cheap check of the fields the gateway reads; false means "let the schema explain". */
function looksValid(endpoint: Endpoint, body: JsonObject): boolean {
  if (typeof body.model !== "string" || body.model === "" || body.models !== undefined) {
    return false;
  }
  if (body.stream !== undefined && typeof body.stream !== "boolean") return false;
  if (body.stream_options !== undefined) return false;
  if (endpoint === "chat") {
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) return false;
    for (const m of messages) {
      if (typeof m !== "object" || m === null || typeof m.role !== "string") return false;
    }
    return true;
  }
  if (endpoint === "responses") {
    return (body.input === undefined || typeof body.input === "string" ||
      Array.isArray(body.input)) &&
      (body.previous_response_id == null ||
        (typeof body.previous_response_id === "string" && body.previous_response_id !== "")) &&
      (body.store == null || typeof body.store === "boolean");
  }
  if (endpoint === "embeddings") {
    return body.stream === undefined &&
      (typeof body.input === "string" || (Array.isArray(body.input) && body.input.length > 0));
  }
  return typeof body.prompt === "string" || Array.isArray(body.prompt);
}
