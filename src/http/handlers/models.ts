import type { Engine } from "../../core/engine.ts";
import { GatewayError } from "../../core/errors.ts";
import { messagesErrorBody } from "../../dialects/messages/errors.ts";
import { anthropicModel, anthropicModelPage } from "../../dialects/messages/models.ts";
import type { Context, Handler } from "../context.ts";

/** The header every Anthropic client sends: it asks for the Models API in Anthropic's shape. */
const ANTHROPIC_VERSION = "anthropic-version";

/**
 * `GET /v1/models`: the unified list, from memory (never waits for an upstream). OpenAI's list
 * shape, or Anthropic's when the request carries `anthropic-version`.
 */
export function listModelsHandler(engine: Engine): Handler {
  return function listModels(ctx: Context): Response {
    const data = engine.catalog.list().filter((m) => engine.access.listed(ctx.caller, m.id));
    if (!ctx.request.headers.has(ANTHROPIC_VERSION)) return Response.json({ object: "list", data });
    const page = anthropicModelPage(data, new URL(ctx.request.url).searchParams);
    return typeof page === "string" ? anthropicError(400, page) : Response.json(page);
  };
}

/**
 * `GET /v1/models/{id}`: one model by its full id, e.g. `openai/gpt-4o`, or an alias. OpenAI's
 * model object, or Anthropic's when the request carries `anthropic-version`.
 */
export function getModelHandler(engine: Engine): Handler {
  return function getModel(ctx: Context): Response {
    const id = ctx.params.id ?? "";
    const model = engine.catalog.get(id);
    const anthropic = ctx.request.headers.has(ANTHROPIC_VERSION);
    // A model the caller may not use is as absent for it as one that does not exist.
    if (model === undefined || !engine.access.listed(ctx.caller, id)) {
      const message = `model "${id}" is not in the model list`;
      if (anthropic) return anthropicError(404, message);
      throw new GatewayError("model_not_found", message, { param: "model" });
    }
    return Response.json(anthropic ? anthropicModel(model) : model);
  };
}

function anthropicError(status: number, message: string): Response {
  return Response.json(messagesErrorBody(status, message), { status });
}
