import type { ProviderConfig } from "../../config/types.ts";
import { failureOf, ProviderError } from "../../core/errors.ts";
import { isRecord } from "../../core/json.ts";
import {
  callUpstream,
  headerRecord,
  joinUrl,
  readJson,
  unsupportedEndpoint,
  UpstreamResult,
} from "../http_util.ts";
import type {
  Endpoint,
  Provider,
  ProviderCall,
  ProviderModel,
  ProviderResult,
  ResourceAnswer,
  ResourceRequest,
  UpstreamSettings,
} from "../../core/provider.ts";
import { createUpstreamClient } from "../upstream_client.ts";

/** Upstream path per endpoint, relative to the provider's base URL. */
const PATHS: Partial<Record<Endpoint, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  responses: "/v1/responses",
};

/** How an OpenAI-wire-format server is addressed; the defaults are OpenAI's. */
export interface OpenAICompatibleOptions {
  /** Upstream URL for one call; undefined for an endpoint the server does not speak. */
  url(call: ProviderCall): string | undefined;
  /** Request body for one call (default: the gateway's serialisation, untouched). */
  body?(call: ProviderCall): string;
  /** Headers sent on every call (auth included). */
  headers: Headers;
  /** Model list URL; null means the list is the static one only. */
  modelsUrl: string | null;
  /** Models always listed, whatever the upstream says. */
  extraModels?: string[];
  /** The URL of a resource the upstream keeps (a stored response); absent: it keeps none. */
  resourceUrl?(path: string): string;
  /** The upstream connections' settings (default: the configuration's defaults). */
  upstream?: UpstreamSettings;
}

/** Passthrough provider for OpenAI and every OpenAI-compatible server: bodies are not re-encoded. */
export function createOpenAIProvider(
  config: ProviderConfig,
  settings?: UpstreamSettings,
): Provider {
  const urls: Partial<Record<Endpoint, string>> = {};
  for (const [endpoint, path] of Object.entries(PATHS)) {
    urls[endpoint as Endpoint] = joinUrl(config.target_url, path);
  }
  const headers = new Headers(config.headers);
  if (config.api_key !== null) headers.set("authorization", `Bearer ${config.api_key}`);
  const provider = createOpenAICompatible(config, {
    url: (call) => urls[call.endpoint],
    headers,
    modelsUrl: joinUrl(config.target_url, "/v1/models"),
    resourceUrl: (path) => joinUrl(config.target_url, path),
    upstream: settings,
  });
  if (config.responses_api === "translate") return provider;
  // Served natively until an `auto` provider's upstream shows it lacks the Responses API.
  const endpoints = new Set<Endpoint>(["chat", "completions", "embeddings", "responses"]);
  return {
    ...provider,
    endpoints,
    unlearn(endpoint) {
      if (config.responses_api !== "auto" || endpoint !== "responses") return false;
      return endpoints.delete(endpoint);
    },
  };
}

/** A provider for any server that speaks the OpenAI wire format, however it is addressed. */
export function createOpenAICompatible(
  config: ProviderConfig,
  options: OpenAICompatibleOptions,
): Provider {
  const client = createUpstreamClient(options.upstream);
  const baseHeaders = headerRecord(options.headers);
  baseHeaders["content-type"] = "application/json";
  const streamHeaders = { ...baseHeaders, accept: "text/event-stream" };

  async function send(call: ProviderCall): Promise<ProviderResult> {
    const url = options.url(call);
    if (url === undefined) throw unsupportedEndpoint(config, call.endpoint);
    const res = await callUpstream(config.name, {
      url,
      headers: call.stream ? streamHeaders : baseHeaders,
      body: options.body ? options.body(call) : call.json(),
      signal: call.signal,
      requestId: call.requestId,
      client,
    });
    return new UpstreamResult(res, call.stream ? "text/event-stream" : "application/json");
  }

  async function listModels(signal: AbortSignal): Promise<ProviderModel[]> {
    const extra = (options.extraModels ?? []).map((id) => ({ id }));
    if (options.modelsUrl === null) return extra;
    const res = await callUpstream(config.name, {
      url: options.modelsUrl,
      headers: baseHeaders,
      signal,
      client,
    });
    return [...parseModelList(config.name, await readJson(config.name, res, signal)), ...extra];
  }

  const resourceUrl = options.resourceUrl;
  async function resource(request: ResourceRequest): Promise<ResourceAnswer> {
    let res;
    try {
      res = await client.request(resourceUrl!(request.path), {
        method: request.method,
        headers: baseHeaders,
        requestId: request.requestId,
        signal: request.signal,
      });
    } catch (err) {
      throw failureOf(err, request.signal, `${config.name} unreachable`);
    }
    return {
      status: res.status,
      contentType: res.header("content-type") ?? "application/json",
      body: res.body === null ? new Uint8Array() : await res.bytes(),
    };
  }

  return {
    name: config.name,
    config,
    send,
    listModels,
    ...(resourceUrl === undefined ? {} : { resource }),
    close: () => client.close(),
  };
}

/** Reads an OpenAI `GET /v1/models` answer (`{data: [{id, created, owned_by}]}`). */
export function parseModelList(provider: string, json: unknown): ProviderModel[] {
  const data = isRecord(json) ? json.data : undefined;
  if (!Array.isArray(data)) {
    throw new ProviderError("protocol", `${provider} model list has no "data" array`);
  }
  const models: ProviderModel[] = [];
  for (const item of data) {
    if (!isRecord(item) || typeof item.id !== "string") continue;
    models.push({
      id: item.id,
      created: typeof item.created === "number" ? item.created : undefined,
      owned_by: typeof item.owned_by === "string" ? item.owned_by : undefined,
    });
  }
  return models;
}
