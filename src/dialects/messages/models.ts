/**
 * The Models API in Anthropic's shape: `{type: "model", id, display_name, created_at}` objects, and
 * pages of them with `has_more`, `first_id` and `last_id`.
 */
import type { CatalogModel } from "../../core/catalog.ts";

/** One model as Anthropic's Models API describes it. */
export interface AnthropicModel {
  type: "model";
  id: string;
  display_name: string;
  /** RFC 3339. */
  created_at: string;
}

/** A page of the model list. */
export interface AnthropicModelPage {
  data: AnthropicModel[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

/** Largest page Anthropic's API hands out. */
const MAX_LIMIT = 1000;

/** A catalog entry in Anthropic's shape; the gateway's id doubles as the display name. */
export function anthropicModel(model: CatalogModel): AnthropicModel {
  return {
    type: "model",
    id: model.id,
    display_name: model.id,
    created_at: new Date(model.created * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}

/**
 * The page `query` asks for: `limit` (1-1000; without it, the whole list), and `after_id` or
 * `before_id` as a cursor. Returns an error message naming the parameter when the query is bad.
 */
export function anthropicModelPage(
  models: readonly CatalogModel[],
  query: URLSearchParams,
): AnthropicModelPage | string {
  const rawLimit = query.get("limit");
  const limit = rawLimit === null ? models.length : Number(rawLimit);
  if (rawLimit !== null && !(Number.isInteger(limit) && limit >= 1 && limit <= MAX_LIMIT)) {
    return `limit: expected an integer from 1 to ${MAX_LIMIT}, got ${JSON.stringify(rawLimit)}`;
  }
  const after = query.get("after_id");
  const before = query.get("before_id");
  if (after !== null && before !== null) return "after_id and before_id cannot both be given";
  let start = 0;
  let end = models.length;
  if (after !== null) {
    const index = models.findIndex((m) => m.id === after);
    if (index === -1) return `after_id: no model "${after}" in the list`;
    start = index + 1;
    end = Math.min(models.length, start + limit);
  } else if (before !== null) {
    const index = models.findIndex((m) => m.id === before);
    if (index === -1) return `before_id: no model "${before}" in the list`;
    end = index;
    start = Math.max(0, end - limit);
  } else {
    end = Math.min(models.length, limit);
  }
  const data = models.slice(start, end).map(anthropicModel);
  return {
    data,
    // More results in the direction being paged.
    has_more: before !== null ? start > 0 : end < models.length,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
  };
}
