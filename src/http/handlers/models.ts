import type { Engine } from "../../core/engine.ts";
import { GatewayError } from "../../core/errors.ts";
import type { Context, Handler } from "../context.ts";

/** `GET /v1/models`: the unified list, from memory (never waits for an upstream). */
export function listModelsHandler(engine: Engine): Handler {
  return function listModels(ctx: Context): Response {
    const data = engine.catalog.list().filter((m) => engine.access.listed(ctx.caller, m.id));
    return Response.json({ object: "list", data });
  };
}

/** `GET /v1/models/{id}`: one model by its full id, e.g. `openai/gpt-4o`. */
export function getModelHandler(engine: Engine): Handler {
  return function getModel(ctx: Context): Response {
    const id = ctx.params.id ?? "";
    const model = engine.catalog.get(id);
    // A model the caller may not use is as absent for it as one that does not exist.
    if (model === undefined || !engine.access.listed(ctx.caller, id)) {
      throw new GatewayError("model_not_found", `model "${id}" is not in the model list`, {
        param: "model",
      });
    }
    return Response.json(model);
  };
}
