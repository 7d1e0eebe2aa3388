import type { ProviderConfig } from "../../config/types.ts";
import { ProviderError } from "../../core/errors.ts";
import { createOpenAICompatible } from "../openai/openai_provider.ts";
import { openAIErrorBody } from "../openai_wire.ts";
import type { Endpoint, Provider, ProviderCall, UpstreamSettings } from "../../core/provider.ts";

/** The GA `api-version` used for deployment URLs when the config names none. */
export const AZURE_DEFAULT_API_VERSION = "2024-10-21";

const OPERATIONS: Partial<Record<Endpoint, string>> = {
  chat: "chat/completions",
  completions: "completions",
  embeddings: "embeddings",
};

/**
 * Azure OpenAI: OpenAI's wire format behind Azure's addressing and `api-key` header.
 * A `target_url` ending in `/openai/v1` uses the v1 API (deployment name in the body's `model`);
 * any other is a resource URL, addressed as `/openai/deployments/{deployment}/...?api-version=`.
 */
export function createAzureProvider(
  config: ProviderConfig,
  settings?: UpstreamSettings,
): Provider {
  const base = config.target_url.replace(/\/+$/, "");
  const v1 = /\/openai\/v1$/.test(base);
  const headers = new Headers(config.headers);
  if (config.api_key !== null) headers.set("api-key", config.api_key);
  const deploymentOf = (model: string) => config.deployments[model] ?? model;

  if (v1) {
    const query = config.api_version === null
      ? ""
      : `?api-version=${encodeURIComponent(config.api_version)}`;
    return createOpenAICompatible(config, {
      url: (call) => {
        const operation = OPERATIONS[call.endpoint];
        return operation === undefined ? undefined : `${base}/${operation}${query}`;
      },
      // The v1 API routes by the body's model, which must name the deployment.
      body: (call) =>
        deploymentOf(call.model) === call.model
          ? call.json()
          : JSON.stringify({ ...call.body, model: deploymentOf(call.model) }),
      headers,
      modelsUrl: `${base}/models${query}`,
      extraModels: Object.keys(config.deployments),
      upstream: settings,
    });
  }

  const version = encodeURIComponent(config.api_version ?? AZURE_DEFAULT_API_VERSION);
  return createOpenAICompatible(config, {
    url: (call: ProviderCall) => {
      const operation = OPERATIONS[call.endpoint];
      if (operation === undefined) return undefined;
      const deployment = deploymentSegment(config.name, deploymentOf(call.model));
      return `${base}/openai/deployments/${deployment}/${operation}?api-version=${version}`;
    },
    headers,
    // A resource lists base models, not the deployments a client can call: the map is the list.
    modelsUrl: null,
    extraModels: Object.keys(config.deployments),
    upstream: settings,
  });
}

/**
 * A deployment name as a URL path segment. `.` and `..` are refused: URL resolution would turn
 * them into another path of the same host, which would then receive the provider's key.
 */
function deploymentSegment(provider: string, deployment: string): string {
  if (deployment === "." || deployment === "..") {
    const message = `provider "${provider}" (azure): "${deployment}" cannot name a deployment`;
    throw new ProviderError("http", message, {
      status: 400,
      upstreamBody: openAIErrorBody(message, { param: "model", code: "invalid_value" }),
      upstreamContentType: "application/json",
    });
  }
  return encodeURIComponent(deployment);
}
