/**
 * Provider types: which adapter serves each, its default base URL, and whether it needs a key.
 * Presets let a user write `type: groq` instead of spelling out an OpenAI-compatible server.
 */

import type { ResponsesApiMode } from "./types.ts";

/** The adapters that exist; several types share the `openai` passthrough. */
export type AdapterKind = "openai" | "anthropic" | "gemini" | "azure";

/** What a `type:` value means. */
export interface ProviderPreset {
  adapter: AdapterKind;
  /** Base URL used when `target_url` is omitted; none means `target_url` is required. */
  base_url?: string;
  /** An enabled provider of this type must have an `api_key`. */
  needs_key: boolean;
  /** Where the key usually lives, for error hints and the embedded default. */
  key_env?: string;
  /**
   * `responses_api` when the config sets none, for OpenAI-compatible types (default `auto`);
   * other adapters are always translated.
   */
  responses_api?: ResponsesApiMode;
}

/** Every provider type the gateway knows. */
export const PROVIDER_PRESETS: Readonly<Record<string, ProviderPreset>> = {
  // OpenAI itself by default; with a target_url, any OpenAI-compatible server (key optional).
  openai: {
    adapter: "openai",
    base_url: "https://api.openai.com",
    needs_key: false,
    key_env: "OPENAI_API_KEY",
  },
  anthropic: {
    adapter: "anthropic",
    base_url: "https://api.anthropic.com",
    needs_key: true,
    key_env: "ANTHROPIC_API_KEY",
  },
  gemini: {
    adapter: "gemini",
    base_url: "https://generativelanguage.googleapis.com",
    needs_key: true,
    key_env: "GEMINI_API_KEY",
  },
  azure: { adapter: "azure", needs_key: true, key_env: "AZURE_OPENAI_API_KEY" },
  // Ollama's /v1/responses (0.13.3 and later) keeps no state: previous_response_id would fail.
  ollama: {
    adapter: "openai",
    base_url: "http://localhost:11434/v1",
    needs_key: false,
    responses_api: "translate",
  },
  llamacpp: { adapter: "openai", base_url: "http://localhost:8080/v1", needs_key: false },
  vllm: { adapter: "openai", base_url: "http://localhost:8000/v1", needs_key: false },
  // LM Studio serves /v1/responses, with state, since 0.3.29.
  lmstudio: {
    adapter: "openai",
    base_url: "http://localhost:1234/v1",
    needs_key: false,
    responses_api: "native",
  },
  groq: {
    adapter: "openai",
    base_url: "https://api.groq.com/openai/v1",
    needs_key: true,
    key_env: "GROQ_API_KEY",
  },
  openrouter: {
    adapter: "openai",
    base_url: "https://openrouter.ai/api/v1",
    needs_key: true,
    key_env: "OPENROUTER_API_KEY",
    responses_api: "native",
  },
  together: {
    adapter: "openai",
    base_url: "https://api.together.xyz/v1",
    needs_key: true,
    key_env: "TOGETHER_API_KEY",
  },
  mistral: {
    adapter: "openai",
    base_url: "https://api.mistral.ai/v1",
    needs_key: true,
    key_env: "MISTRAL_API_KEY",
  },
  deepseek: {
    adapter: "openai",
    base_url: "https://api.deepseek.com/v1",
    needs_key: true,
    key_env: "DEEPSEEK_API_KEY",
  },
  xai: {
    adapter: "openai",
    base_url: "https://api.x.ai/v1",
    needs_key: true,
    key_env: "XAI_API_KEY",
  },
};

/** Provider types in a stable order, for messages. */
export const PROVIDER_TYPES: readonly string[] = Object.keys(PROVIDER_PRESETS);

/** Types the embedded default enables when their key variable is set, in this order. */
export const DEFAULT_PROVIDER_TYPES: readonly string[] = [
  "openai",
  "anthropic",
  "gemini",
  "groq",
  "openrouter",
  "mistral",
  "deepseek",
  "together",
  "xai",
];
