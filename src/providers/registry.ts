import { type AdapterKind, PROVIDER_PRESETS } from "../config/presets.ts";
import type { ProviderConfig } from "../config/types.ts";
import { createAnthropicProvider } from "./anthropic/anthropic_provider.ts";
import { createAzureProvider } from "./azure/azure_provider.ts";
import { createGeminiProvider } from "./gemini/gemini_provider.ts";
import { createOpenAIProvider } from "./openai/openai_provider.ts";
import type { Provider, ProviderFactory, UpstreamSettings } from "../core/provider.ts";

/** Adapter factories; adding an adapter means one folder, one line here and a preset entry. */
export const ADAPTERS: Partial<Record<AdapterKind, ProviderFactory>> = {
  openai: createOpenAIProvider,
  anthropic: createAnthropicProvider,
  azure: createAzureProvider,
  gemini: createGeminiProvider,
};

/** Builds the provider for one config entry, through its type's adapter. */
export function createProvider(config: ProviderConfig, settings?: UpstreamSettings): Provider {
  const adapter = PROVIDER_PRESETS[config.type]?.adapter;
  const factory = adapter === undefined ? undefined : ADAPTERS[adapter];
  if (factory === undefined) throw new Error(`no provider adapter for type "${config.type}"`);
  return factory(config, settings);
}
