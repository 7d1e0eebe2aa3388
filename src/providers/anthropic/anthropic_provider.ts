import type { ProviderConfig } from "../../config/types.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import {
  callUpstream,
  headerRecord,
  joinUrl,
  JsonResult,
  readJson,
  sseResult,
  unsupportedEndpoint,
  UpstreamResult,
} from "../http_util.ts";
import type {
  Endpoint,
  Provider,
  ProviderCall,
  ProviderModel,
  ProviderResult,
  UpstreamSettings,
} from "../../core/provider.ts";
import { translateSse } from "../sse_translate.ts";
import { createUpstreamClient, type UpstreamClient } from "../upstream_client.ts";
import { toAnthropicRequest } from "./request.ts";
import { fromAnthropicResponse, parseModelPage, toOpenAIError } from "./response.ts";
import { anthropicStreamTranslator } from "./stream.ts";

/** The `anthropic-version` sent when the configuration names none. */
export const DEFAULT_ANTHROPIC_VERSION = "2023-06-01";

/**
 * Chat requests are translated to the Messages API; Messages requests and token counts pass
 * through as sent. Completions and embeddings have no counterpart.
 */
const ENDPOINTS: ReadonlySet<Endpoint> = new Set(["chat", "messages", "count_tokens"]);

/** Client headers a native call forwards, as the Messages API defines them. */
const FORWARDED = ["anthropic-version", "anthropic-beta"];

/** Pages of the model list followed at most: a runaway cursor must not loop forever. */
const MAX_MODEL_PAGES = 20;

/** Adapter for Anthropic's Messages API: OpenAI chat requests in, OpenAI answers out. */
export function createAnthropicProvider(
  config: ProviderConfig,
  settings?: UpstreamSettings,
): Provider {
  const client = createUpstreamClient(settings);
  const messagesUrl = joinUrl(config.target_url, "/v1/messages");
  const countUrl = joinUrl(config.target_url, "/v1/messages/count_tokens");
  const modelsUrl = joinUrl(config.target_url, "/v1/models");
  const headers = headerRecord(buildHeaders(config));
  const translated: TranslationCache = new WeakMap();

  /** A Messages request or token count as the client sent it (`model` rewritten), answered as is. */
  async function sendNative(call: ProviderCall): Promise<ProviderResult> {
    const res = await callUpstream(config.name, {
      url: call.endpoint === "messages" ? messagesUrl : countUrl,
      headers: forwardedHeaders(headers, call.headers),
      body: call.json(),
      signal: call.signal,
      requestId: call.requestId,
      client,
    });
    return new UpstreamResult(res, call.stream ? "text/event-stream" : "application/json");
  }

  async function send(call: ProviderCall): Promise<ProviderResult> {
    if (call.endpoint === "messages" || call.endpoint === "count_tokens") return sendNative(call);
    if (call.endpoint !== "chat") throw unsupportedEndpoint(config, call.endpoint);
    const res = await callUpstream(config.name, {
      url: messagesUrl,
      headers,
      body: requestText(config, call, translated),
      signal: call.signal,
      requestId: call.requestId,
      client,
      translateError: toOpenAIError,
    });
    if (call.stream) {
      const includeUsage = includesUsage(call.body);
      const translator = anthropicStreamTranslator({ model: call.model, includeUsage });
      return sseResult(translateSse(res.body!, translator));
    }
    const json = await readJson(config.name, res, call.signal);
    return new JsonResult(fromAnthropicResponse(json, call.model));
  }

  return {
    name: config.name,
    config,
    endpoints: ENDPOINTS,
    send,
    listModels: (signal) => listAllModels(config.name, { url: modelsUrl, headers, client, signal }),
    close: () => client.close(),
  };
}

/** Translated request text per shared body, with the model it was made for. */
type TranslationCache = WeakMap<object, { model: string; text: string }>;

/** The Anthropic request for a call; retries of the same model reuse the translation. */
function requestText(config: ProviderConfig, call: ProviderCall, cache: TranslationCache): string {
  const cached = cache.get(call.body);
  if (cached !== undefined && cached.model === call.model) return cached.text;
  const request = toAnthropicRequest(call.body, {
    defaultMaxTokens: config.default_max_tokens,
    provider: config.name,
  });
  request.model = call.model;
  if (call.stream) request.stream = true;
  else delete request.stream;
  const text = JSON.stringify(request);
  cache.set(call.body, { model: call.model, text });
  return text;
}

/** Follows the model list's `after_id` cursor page by page, up to MAX_MODEL_PAGES. */
async function listAllModels(
  provider: string,
  req: {
    url: string;
    headers: Record<string, string>;
    client: UpstreamClient;
    signal: AbortSignal;
  },
): Promise<ProviderModel[]> {
  const models: ProviderModel[] = [];
  let after: string | undefined;
  for (let page = 0; page < MAX_MODEL_PAGES; page++) {
    const url = new URL(req.url);
    url.searchParams.set("limit", "1000");
    if (after !== undefined) url.searchParams.set("after_id", after);
    const res = await callUpstream(provider, {
      ...req,
      url: url.href,
      translateError: toOpenAIError,
    });
    const { models: found, next } = parseModelPage(
      provider,
      await readJson(provider, res, req.signal),
    );
    models.push(...found);
    if (next === undefined || next === after) break;
    after = next;
  }
  return models;
}

function buildHeaders(config: ProviderConfig): Headers {
  const headers = new Headers({
    "content-type": "application/json",
    "anthropic-version": config.api_version ?? DEFAULT_ANTHROPIC_VERSION,
  });
  // Configured headers may add betas (`anthropic-beta`) or override the version.
  for (const [key, value] of Object.entries(config.headers)) headers.set(key, value);
  if (config.api_key !== null) headers.set("x-api-key", config.api_key);
  return headers;
}

/** The provider's headers with the client's Messages API headers (its version and betas) on top. */
function forwardedHeaders(
  headers: Record<string, string>,
  client: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  if (client === undefined) return headers;
  let merged: Record<string, string> | undefined;
  for (const name of FORWARDED) {
    const value = client[name];
    if (value === undefined) continue;
    merged ??= { ...headers };
    // Betas the configuration adds are kept beside the client's.
    merged[name] = name === "anthropic-beta" && headers[name] !== undefined
      ? `${headers[name]},${value}`
      : value;
  }
  return merged ?? headers;
}

function includesUsage(body: Readonly<JsonObject>): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}
