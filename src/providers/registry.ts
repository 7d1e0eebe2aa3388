import type { ProviderConfig } from "../config/types.ts";
import { createOpenAIProvider } from "./openai/openai_provider.ts";
import type { Provider, ProviderFactory } from "./provider.ts";

/** Provider factories by `type:`; adding an adapter means one folder and one line here. */
export const PROVIDER_FACTORIES: Record<string, ProviderFactory> = {
  openai: createOpenAIProvider,
};

/** Builds the provider for one config entry. */
export function createProvider(config: ProviderConfig): Provider {
  const factory = PROVIDER_FACTORIES[config.type];
  if (factory === undefined) throw new Error(`no provider adapter for type "${config.type}"`);
  return factory(config);
}
