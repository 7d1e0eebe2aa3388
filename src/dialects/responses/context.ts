/**
 * What the two halves of the Responses translation share: the request's side (to_chat.ts) names
 * the tools it flattened, and the answer's side (from_chat.ts, stream.ts) names them back and
 * echoes the request in the response object.
 */
import type { JsonObject } from "../../core/json.ts";

/** How the client named a function tool the hub knows by a flattened name. */
export interface ClientToolName {
  /** The function's own name. */
  name: string;
  /** The `namespace` tool group it was given in, if any. */
  namespace?: string;
  /**
   * A `custom` (free-form) tool: the hub knows it as a function taking `{"input": string}`, and
   * its calls go back to the client as `custom_tool_call` items with that input.
   */
  custom?: boolean;
}

/** Flattened hub tool name -> the client's name for it. Names not in it are the client's own. */
export type ToolNames = ReadonlyMap<string, ClientToolName>;

/** What translating one answer back to the Responses API needs to know about its request. */
export interface ResponseContext {
  /** The response's id, given by the gateway: `resp_` and 48 hex digits. */
  id: string;
  /** When the response was created, in seconds since the epoch. */
  createdAt: number;
  /** The model as the client asked for it (echoed in the response). */
  model: string;
  /** The client's request body: a response echoes `instructions`, `tools`, `metadata`, ... */
  request: JsonObject;
  /** The tool names the request's translation flattened. */
  toolNames: ToolNames;
}
