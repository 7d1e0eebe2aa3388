// The Vercel AI SDK with its OpenAI provider, a test-only dependency imported by full specifier
// (pinned by tests/deno.lock), pointed at a server under test. `openai(model)` speaks the
// Responses API.
import { createOpenAI } from "npm:@ai-sdk/openai@^4.0.0";
import { generateText, stepCountIs, streamText, type ToolSet } from "npm:ai@^7.0.0";

export { jsonSchema, tool } from "npm:ai@^7.0.0";

/** Options for `aiGenerateText` and `aiStreamText`. */
export interface AiSdkCall {
  model: string;
  prompt: string;
  apiKey?: string;
  system?: string;
  tools?: ToolSet;
  /** Model calls the SDK may make, tool round trips included (default 1). */
  maxSteps?: number;
  /** Sent as the OpenAI provider's options (`store`, `previousResponseId`, ...). */
  openai?: Record<string, string | number | boolean | null>;
  headers?: Record<string, string>;
}

/** What a user of the SDK gets back. */
export interface AiSdkResult {
  text: string;
  finishReason: string;
  usage: { inputTokens?: number; outputTokens?: number; totalTokens?: number };
  /** The id of the last response (`providerMetadata.openai.responseId`). */
  responseId?: string;
  /** The tool calls of every step, in order. */
  toolCalls: { toolName: string; input: unknown }[];
}

/** What `aiStreamText` read: the result, and the stream's parts as they came. */
export interface AiSdkStreamResult extends AiSdkResult {
  /** The type of every part of `fullStream`, in order. */
  partTypes: string[];
  /** The text deltas, in order. */
  textDeltas: string[];
}

/** The AI SDK's OpenAI provider for the server at `url` (its /v1 API); retries are per call. */
export function aiSdkProvider(url: string, apiKey = "client-key") {
  return createOpenAI({ baseURL: url + "/v1", apiKey });
}

function settings(url: string, call: AiSdkCall) {
  return {
    // The provider's default model: the Responses API, as a user's `openai(model)` gets.
    model: aiSdkProvider(url, call.apiKey)(call.model),
    prompt: call.prompt,
    system: call.system,
    tools: call.tools,
    headers: call.headers,
    stopWhen: stepCountIs(call.maxSteps ?? 1),
    providerOptions: call.openai ? { openai: call.openai } : undefined,
    // Tests want each upstream answer as it came, not retried.
    maxRetries: 0,
  };
}

function responseIdOf(metadata: unknown): string | undefined {
  const openai = (metadata as { openai?: { responseId?: unknown } } | undefined)?.openai;
  return typeof openai?.responseId === "string" ? openai.responseId : undefined;
}

/** `generateText` through the Responses API of the server at `url`. */
export async function aiGenerateText(url: string, call: AiSdkCall): Promise<AiSdkResult> {
  const result = await generateText(settings(url, call));
  return {
    text: result.text,
    finishReason: result.finishReason,
    usage: result.usage,
    responseId: responseIdOf(result.providerMetadata),
    toolCalls: result.steps.flatMap((step) =>
      step.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input }))
    ),
  };
}

/**
 * `streamText` through the Responses API of the server at `url`, read to its end. A stream
 * error rejects, as it does for a user who reads the stream.
 */
export async function aiStreamText(url: string, call: AiSdkCall): Promise<AiSdkStreamResult> {
  const partTypes: string[] = [];
  const textDeltas: string[] = [];
  let failure: unknown;
  const result = streamText({
    ...settings(url, call),
    onError: ({ error }) => {
      failure ??= error;
    },
  });
  for await (const part of result.fullStream) {
    partTypes.push(part.type);
    if (part.type === "text-delta") textDeltas.push(part.text);
    if (part.type === "error") failure ??= part.error;
  }
  if (failure !== undefined) throw failure;
  const steps = await result.steps;
  return {
    text: await result.text,
    finishReason: await result.finishReason,
    usage: await result.usage,
    responseId: responseIdOf(await result.providerMetadata),
    toolCalls: steps.flatMap((step) =>
      step.toolCalls.map((c) => ({ toolName: c.toolName, input: c.input }))
    ),
    partTypes,
    textDeltas,
  };
}
