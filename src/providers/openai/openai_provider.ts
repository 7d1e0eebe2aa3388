import type { ProviderConfig } from "../../config/types.ts";
import { ProviderError } from "../../core/errors.ts";
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
  UpstreamSettings,
} from "../../core/provider.ts";
import { createUpstreamClient } from "../upstream_client.ts";

/** Upstream path per endpoint, relative to the provider's base URL. */
const PATHS: Partial<Record<Endpoint, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
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
  return createOpenAICompatible(config, {
    url: (call) => urls[call.endpoint],
    headers,
    modelsUrl: joinUrl(config.target_url, "/v1/models"),
    upstream: settings,
  });
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

  return {
    name: config.name,
    config,
    send,
    listModels,
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
