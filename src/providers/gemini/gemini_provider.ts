import type { ProviderConfig } from "../../config/types.ts";
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import {
  callUpstream,
  headerRecord,
  JsonResult,
  readJson,
  sseResult,
  unsupportedEndpoint,
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
import { toGeminiEmbedRequest, toGeminiRequest } from "./request.ts";
import { fromGeminiEmbeddings, fromGeminiResponse, toOpenAIError } from "./response.ts";
import { geminiStreamTranslator } from "./stream.ts";

/** Default Generative Language API version (path segment). */
const DEFAULT_VERSION = "v1beta";
/** A trailing version segment of the configured base URL, e.g. `/v1beta`. */
const VERSION_SUFFIX = /\/(v\d+(?:alpha|beta)?\d*)$/;
/** Bound on model-list pages followed, so a looping `nextPageToken` cannot spin forever. */
const MAX_MODEL_PAGES = 20;
/** Gemini has no counterpart of the legacy completions API. */
const ENDPOINTS: ReadonlySet<Endpoint> = new Set(["chat", "embeddings"]);

/** Where a Gemini provider's API lives: base URL without version, and the version to use. */
export interface GeminiBase {
  root: string;
  version: string;
}

/**
 * Splits `target_url` into root and version. The base may already end in a version
 * (`.../v1beta`): it is not doubled, and it is used unless `api_version` says otherwise.
 */
export function geminiBase(config: Pick<ProviderConfig, "target_url" | "api_version">): GeminiBase {
  let root = config.target_url.replace(/\/+$/, "");
  const suffix = VERSION_SUFFIX.exec(root);
  if (suffix !== null) root = root.slice(0, -suffix[0].length);
  return { root, version: config.api_version ?? suffix?.[1] ?? DEFAULT_VERSION };
}

/** The resource path of a model: `models/x` (or `tunedModels/x`), given `x` or `models/x`. */
export function modelResource(model: string): string {
  const prefix = /^(models|tunedModels)\//.exec(model)?.[0] ?? "models/";
  const id = model.startsWith(prefix) ? model.slice(prefix.length) : model;
  return prefix + encodeURIComponent(id);
}

/** What every call of one Gemini provider shares. */
interface GeminiUpstream {
  name: string;
  client: UpstreamClient;
  /** `{root}/{version}`, e.g. `https://generativelanguage.googleapis.com/v1beta`. */
  apiRoot: string;
  headers: Record<string, string>;
  streamHeaders: Record<string, string>;
  /** Translated chat bodies per OpenAI body: the translation does not depend on the model. */
  translated: WeakMap<object, string>;
}

/** Native adapter for Google's Gemini (Generative Language) API behind the OpenAI surface. */
export function createGeminiProvider(
  config: ProviderConfig,
  settings?: UpstreamSettings,
): Provider {
  const { root, version } = geminiBase(config);
  const headers = headerRecord(buildHeaders(config));
  const streamHeaders = { ...headers, accept: "text/event-stream" };
  const upstream: GeminiUpstream = {
    name: config.name,
    client: createUpstreamClient(settings),
    apiRoot: `${root}/${version}`,
    headers,
    streamHeaders,
    translated: new WeakMap(),
  };
  return {
    name: config.name,
    config,
    endpoints: ENDPOINTS,
    send(call: ProviderCall): Promise<ProviderResult> {
      if (call.endpoint === "chat") return sendChat(upstream, call);
      if (call.endpoint === "embeddings") return sendEmbeddings(upstream, call);
      return Promise.reject(unsupportedEndpoint(config, call.endpoint));
    },
    listModels: (signal: AbortSignal) => listAllModels(upstream, signal),
    close: () => upstream.client.close(),
  };
}

/** Retries and fallbacks to another Gemini model reuse the first translation. */
function chatBody(upstream: GeminiUpstream, call: ProviderCall): string {
  let text = upstream.translated.get(call.body);
  if (text === undefined) {
    text = JSON.stringify(toGeminiRequest(call.body, { provider: upstream.name }));
    upstream.translated.set(call.body, text);
  }
  return text;
}

async function sendChat(upstream: GeminiUpstream, call: ProviderCall): Promise<ProviderResult> {
  const method = call.stream ? "streamGenerateContent?alt=sse" : "generateContent";
  const res = await callUpstream(upstream.name, {
    url: `${upstream.apiRoot}/${modelResource(call.model)}:${method}`,
    headers: call.stream ? upstream.streamHeaders : upstream.headers,
    body: chatBody(upstream, call),
    signal: call.signal,
    requestId: call.requestId,
    client: upstream.client,
    translateError: toOpenAIError,
  });
  if (!call.stream) {
    return new JsonResult(
      fromGeminiResponse(await readJson(upstream.name, res, call.signal), call.model),
    );
  }
  const options = isRecord(call.body.stream_options) ? call.body.stream_options : {};
  const translator = geminiStreamTranslator({
    model: call.model,
    includeUsage: options.include_usage === true,
  });
  return sseResult(translateSse(res.body!, translator));
}

async function sendEmbeddings(
  upstream: GeminiUpstream,
  call: ProviderCall,
): Promise<ProviderResult> {
  const body = toGeminiEmbedRequest(call.body, { provider: upstream.name, model: call.model });
  const res = await callUpstream(upstream.name, {
    url: `${upstream.apiRoot}/${modelResource(call.model)}:batchEmbedContents`,
    headers: upstream.headers,
    body: JSON.stringify(body),
    signal: call.signal,
    requestId: call.requestId,
    client: upstream.client,
    translateError: toOpenAIError,
  });
  const json = await readJson(upstream.name, res, call.signal);
  const base64 = call.body.encoding_format === "base64";
  return new JsonResult(fromGeminiEmbeddings(json, call.model, { base64 }));
}

async function listAllModels(
  upstream: GeminiUpstream,
  signal: AbortSignal,
): Promise<ProviderModel[]> {
  const models: ProviderModel[] = [];
  let token: string | undefined;
  for (let page = 0; page < MAX_MODEL_PAGES; page++) {
    const query = token === undefined ? "" : `&pageToken=${encodeURIComponent(token)}`;
    const res = await callUpstream(upstream.name, {
      url: `${upstream.apiRoot}/models?pageSize=1000${query}`,
      headers: upstream.headers,
      signal,
      client: upstream.client,
      translateError: toOpenAIError,
    });
    const list = parseGeminiModels(upstream.name, await readJson(upstream.name, res, signal));
    models.push(...list.models);
    token = list.nextPageToken;
    if (token === undefined) break;
  }
  return models;
}

/** The key goes in `x-goog-api-key`, never in the URL, so it cannot leak into logged URLs. */
function buildHeaders(config: ProviderConfig): Headers {
  const headers = new Headers({ "content-type": "application/json" });
  for (const [key, value] of Object.entries(config.headers)) headers.set(key, value);
  if (config.api_key !== null) headers.set("x-goog-api-key", config.api_key);
  return headers;
}

/** Reads one page of `GET /{version}/models`: ids without the `models/` prefix. */
export function parseGeminiModels(
  provider: string,
  json: unknown,
): { models: ProviderModel[]; nextPageToken?: string } {
  if (!isRecord(json)) {
    throw new ProviderError("protocol", `${provider} model list is not an object`);
  }
  // Google omits empty repeated fields: no "models" key is an empty page.
  const items = Array.isArray(json.models) ? json.models.filter(isRecord) : [];
  const models = items
    .map((m: JsonObject) => m.name)
    .filter((name): name is string => typeof name === "string")
    .map((name) => ({ id: name.replace(/^models\//, "") }));
  const next = json.nextPageToken;
  return typeof next === "string" && next !== "" ? { models, nextPageToken: next } : { models };
}
