import { z } from "zod";
import { GatewayError } from "../core/errors.ts";
import type { JsonObject } from "../core/json.ts";
import type { Endpoint } from "../providers/provider.ts";

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
  if (endpoint === "embeddings") {
    return body.stream === undefined &&
      (typeof body.input === "string" || (Array.isArray(body.input) && body.input.length > 0));
  }
  return typeof body.prompt === "string" || Array.isArray(body.prompt);
}
