import type { ProviderConfig } from "../config/types.ts";
import type { ChunkSource } from "./chunk_reader.ts";
import type { JsonObject } from "./json.ts";

/** The APIs the gateway serves: OpenAI's (Responses included) and Anthropic's Messages. */
export type Endpoint =
  | "chat"
  | "completions"
  | "embeddings"
  | "messages"
  | "count_tokens"
  | "responses";

/** Each endpoint's API path, as clients know it. */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
  messages: "/v1/messages",
  count_tokens: "/v1/messages/count_tokens",
  responses: "/v1/responses",
};

/**
 * The hub format: every adapter translates Chat Completions to and from its provider's wire
 * format, so another inbound API reaches a provider that does not speak it through the hub.
 */
export const HUB: Endpoint = "chat";

/** What an adapter serves when it does not say: the OpenAI wire format. */
const OPENAI_ENDPOINTS: ReadonlySet<Endpoint> = new Set(["chat", "completions", "embeddings"]);

/** Endpoints that reach a provider without them through the hub (see `Translation`). */
const THROUGH_HUB: ReadonlySet<Endpoint> = new Set(["messages", "responses"]);

/** One upstream call: the request body is already rewritten for this provider's model. */
export interface ProviderCall {
  endpoint: Endpoint;
  /** The model name at this provider (without the `provider/` prefix). */
  model: string;
  /** The parsed request body in the OpenAI wire format, `model` rewritten. Read-only: shared. */
  body: Readonly<JsonObject>;
  /** The body serialised (cached per model), for providers that forward it as it is. */
  json(): string;
  stream: boolean;
  /** Aborted on client disconnect, attempt timeout or shutdown. */
  signal: AbortSignal;
  /** The gateway's request id, sent upstream as `x-request-id`. */
  requestId: string;
  /** Client headers a native call forwards (`anthropic-version`, `anthropic-beta`). */
  headers?: Readonly<Record<string, string>>;
}

/** A successful upstream answer; its body is in the OpenAI wire format. */
export interface ProviderResult {
  status: number;
  contentType: string;
  body: ReadableStream<Uint8Array>;
  /** Reads the whole body (instead of `body`), by the provider's fastest means. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** Reads the body chunk by chunk (instead of `body`), without a stream where it can. */
  chunks(): ChunkSource;
}

/** A model as a provider lists it. */
export interface ProviderModel {
  id: string;
  created?: number;
  owned_by?: string;
}

/** A request for a resource the provider keeps (a stored response), relayed as it answers. */
export interface ResourceRequest {
  method: "GET" | "DELETE";
  /** The API path with its query, as clients know it: `/v1/responses/resp_1?include=...`. */
  path: string;
  signal: AbortSignal;
  requestId: string;
}

/** The provider's answer to a `ResourceRequest`, whatever its status. */
export interface ResourceAnswer {
  status: number;
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

/** What the engine needs from a provider. Providers throw `ProviderError` on failure. */
export interface Provider {
  readonly name: string;
  readonly config: ProviderConfig;
  /** The endpoints the adapter serves natively; absent: chat, completions and embeddings. */
  readonly endpoints?: ReadonlySet<Endpoint>;
  /**
   * The upstream answered a native call to `endpoint` as a server without that API would (404,
   * 405): when the provider was only trying it (`responses_api: auto`), it stops serving it
   * natively and returns true, and the call is sent again through the hub.
   */
  unlearn?(endpoint: Endpoint): boolean;
  /** Reads or deletes a resource the upstream keeps (Responses API); absent: it keeps none. */
  resource?(request: ResourceRequest): Promise<ResourceAnswer>;
  /** Sends one call; resolves once the upstream answered 2xx with headers. */
  send(call: ProviderCall): Promise<ProviderResult>;
  /** Lists the models the upstream serves. */
  listModels(signal: AbortSignal): Promise<ProviderModel[]>;
  /** Releases connection pools. */
  close(): void;
}

/** Whether a provider speaks an endpoint's API itself (the request passes through as sent). */
export function servesNatively(provider: Provider, endpoint: Endpoint): boolean {
  return (provider.endpoints ?? OPENAI_ENDPOINTS).has(endpoint);
}

/** Why a provider cannot serve an endpoint, natively or through the hub; undefined when it can. */
export function unservedReason(provider: Provider, endpoint: Endpoint): string | undefined {
  if (servesNatively(provider, endpoint)) return undefined;
  if (THROUGH_HUB.has(endpoint) && servesNatively(provider, HUB)) return undefined;
  return unservedMessage(provider.config, endpoint);
}

/** The adapter's words for an endpoint it lacks: `provider "claude" (anthropic) does not serve ...`. */
export function unservedMessage(config: ProviderConfig, endpoint: Endpoint): string {
  return `provider "${config.name}" (${config.type}) does not serve ${ENDPOINT_PATHS[endpoint]}`;
}

/** Gateway-wide settings of every provider's upstream connections. */
export interface UpstreamSettings {
  /** An idle pooled upstream connection older than this is closed, not reused. */
  poolIdleTimeoutMs: number;
  /** Largest upstream answer read whole (not streamed); beyond it the attempt fails. */
  maxResponseBytes: number;
}

/** Builds a provider from its configuration (`settings` default to the configuration's defaults). */
export type ProviderFactory = (config: ProviderConfig, settings?: UpstreamSettings) => Provider;
