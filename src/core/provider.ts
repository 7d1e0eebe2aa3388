import type { ProviderConfig } from "../config/types.ts";
import type { ChunkSource } from "./chunk_reader.ts";
import type { JsonObject } from "./json.ts";

/** The OpenAI endpoints the gateway serves. */
export type Endpoint = "chat" | "completions" | "embeddings";

/** Each endpoint's OpenAI API path, as clients know it. */
export const ENDPOINT_PATHS: Readonly<Record<Endpoint, string>> = {
  chat: "/v1/chat/completions",
  completions: "/v1/completions",
  embeddings: "/v1/embeddings",
};

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

/** What the engine needs from a provider. Providers throw `ProviderError` on failure. */
export interface Provider {
  readonly name: string;
  readonly config: ProviderConfig;
  /** The endpoints the adapter can serve; absent when it serves them all. */
  readonly endpoints?: ReadonlySet<Endpoint>;
  /** Sends one call; resolves once the upstream answered 2xx with headers. */
  send(call: ProviderCall): Promise<ProviderResult>;
  /** Lists the models the upstream serves. */
  listModels(signal: AbortSignal): Promise<ProviderModel[]>;
  /** Releases connection pools. */
  close(): void;
}

/** Why a provider cannot serve an endpoint, or undefined when it can. */
export function unservedReason(provider: Provider, endpoint: Endpoint): string | undefined {
  if (provider.endpoints === undefined || provider.endpoints.has(endpoint)) return undefined;
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
