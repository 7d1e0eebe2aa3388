/**
 * A Responses request's tools in the hub's terms. Function tools go as they are; the functions of
 * a `namespace` group are flattened to one hub name each; a `custom` (free-form) tool becomes a
 * function taking `{"input": string}`. Built-in tools the hub cannot run are left out.
 */
import type { JsonObject } from "../../core/json.ts";
import type { ClientToolName, ToolNames } from "./context.ts";
import {
  booleanAt,
  type Dropped,
  fail,
  isSet,
  listAt,
  recordAt,
  stringAt,
  typeOf,
} from "./fields.ts";

/** One tool the hub knows, with the name the client gave it. */
export interface HubTool {
  /** The name the hub (and the model) knows it by. */
  hub: string;
  /** The client's name for it. */
  name: string;
  /** The `namespace` group it came in, if any. */
  namespace?: string;
  /** A free-form tool, called with `{"input": string}`. */
  custom: boolean;
  /** The Chat function tool. */
  tool: JsonObject;
}

/** The request's tools, translated. */
export interface HubTools {
  /** Every tool the hub can offer, in the request's order. */
  tools: HubTool[];
  /** Built-in tool types left out (`web_search`, `mcp`, ...). */
  builtIns: Set<string>;
}

/** OpenAI's rule for a function's name, which every hub provider accepts. */
const FUNCTION_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** How many characters of the flattened name a hashed name keeps: 55 + "_" + 8 hex digits. */
const HASHED_PREFIX = 55;

/**
 * The hub name of function `name` in namespace `namespace`: `<namespace>__<name>` when that
 * follows OpenAI's function-name rule and no other tool has it; otherwise that text with every
 * character outside `[a-zA-Z0-9_-]` made `_`, cut to 55 characters, then `_` and the 8 hex
 * digits of the FNV-1a hash of `<namespace>`, a NUL and `<name>`. `taken` holds the names other
 * tools already have.
 */
export function flatName(namespace: string, name: string, taken: ReadonlySet<string>): string {
  const plain = `${namespace}__${name}`;
  if (FUNCTION_NAME.test(plain) && !taken.has(plain)) return plain;
  const prefix = plain.replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, HASHED_PREFIX);
  return `${prefix}_${fnv1a(`${namespace}\u0000${name}`)}`;
}

/** The 32-bit FNV-1a hash of a string's UTF-16 code units, as 8 hex digits. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** Translates the request's `tools`; built-in ones are listed in `dropped` as `tools.<type>`. */
export function convertTools(raw: unknown, dropped: Dropped): HubTools {
  const result: HubTools = { tools: [], builtIns: new Set() };
  if (!isSet(raw)) return result;
  const list = listAt(raw, "tools").map((tool, i) => recordAt(tool, `tools[${i}]`));
  // The client's own names come first: a flattened name must not take one of them.
  const taken = new Set<string>();
  list.forEach((tool, i) => {
    const type = typeOf(tool, `tools[${i}]`);
    if (type === "function" || type === "custom") {
      taken.add(stringAt(tool.name, `tools[${i}].name`));
    }
  });
  list.forEach((tool, i) => {
    const at = `tools[${i}]`;
    const type = typeOf(tool, at);
    if (type === "function" || type === "custom") {
      const name = stringAt(tool.name, `${at}.name`);
      result.tools.push(hubTool(tool, at, { hub: name, name }));
    } else if (type === "namespace") {
      result.tools.push(...namespaceTools(tool, at, taken, dropped));
    } else {
      result.builtIns.add(type);
      dropped.add(`tools.${type}`);
    }
  });
  return result;
}

/** The functions of a `namespace` group, each under its flattened name. */
function namespaceTools(
  group: JsonObject,
  at: string,
  taken: Set<string>,
  dropped: Dropped,
): HubTool[] {
  const namespace = stringAt(group.name, `${at}.name`);
  if (namespace === "") fail(`${at}.name`, "must not be empty");
  // Chat has no place for a group's description; the flattened names keep the group apparent.
  if (isSet(group.description)) dropped.add("tools.namespace.description");
  return listAt(group.tools, `${at}.tools`).map((raw, j) => {
    const where = `${at}.tools[${j}]`;
    const tool = recordAt(raw, where);
    const type = typeOf(tool, where);
    if (type !== "function" && type !== "custom") {
      fail(`${where}.type`, `must be "function" or "custom" in a namespace, not "${type}"`);
    }
    const name = stringAt(tool.name, `${where}.name`);
    const hub = flatName(namespace, name, taken);
    if (taken.has(hub)) {
      fail(`${where}.name`, `its flattened name "${hub}" is taken by another tool`);
    }
    taken.add(hub);
    return hubTool(tool, where, { hub, name, namespace });
  });
}

/** A `function` or `custom` tool as a Chat function tool under the name `names.hub`. */
function hubTool(
  tool: JsonObject,
  at: string,
  names: { hub: string; name: string; namespace?: string },
): HubTool {
  const custom = tool.type === "custom";
  const fn: JsonObject = { name: names.hub };
  if (isSet(tool.description)) fn.description = stringAt(tool.description, `${at}.description`);
  if (custom) fn.parameters = customParameters(tool.format, `${at}.format`);
  else {
    if (isSet(tool.parameters)) fn.parameters = recordAt(tool.parameters, `${at}.parameters`);
    if (isSet(tool.strict)) fn.strict = booleanAt(tool.strict, `${at}.strict`);
  }
  const entry: HubTool = {
    hub: names.hub,
    name: names.name,
    custom,
    tool: { type: "function", function: fn },
  };
  if (names.namespace !== undefined) entry.namespace = names.namespace;
  return entry;
}

/**
 * The parameters of a free-form tool: one string, `input`. A grammar the hub cannot enforce is
 * told to the model in the input's description instead.
 */
function customParameters(raw: unknown, at: string): JsonObject {
  const input: JsonObject = { type: "string" };
  if (isSet(raw)) {
    const format = recordAt(raw, at);
    const type = typeOf(format, at);
    if (type === "grammar") {
      const syntax = stringAt(format.syntax, `${at}.syntax`);
      const definition = stringAt(format.definition, `${at}.definition`);
      input.description = syntax === "regex"
        ? `The input must match this regular expression:\n${definition}`
        : `The input must follow this ${syntax} grammar:\n${definition}`;
    } else if (type !== "text") {
      fail(`${at}.type`, 'must be "text" or "grammar"');
    }
  }
  return {
    type: "object",
    properties: { input },
    required: ["input"],
    additionalProperties: false,
  };
}

/** The names the hub knows differently from the client: flattened and custom tools. */
export function toolNamesOf(tools: readonly HubTool[]): ToolNames {
  const names = new Map<string, ClientToolName>();
  for (const tool of tools) {
    if (tool.namespace === undefined && !tool.custom) continue;
    const client: ClientToolName = { name: tool.name };
    if (tool.namespace !== undefined) client.namespace = tool.namespace;
    if (tool.custom) client.custom = true;
    names.set(tool.hub, client);
  }
  return names;
}

/**
 * The hub name for a call the conversation made to `name` in `namespace`: the flattened name of
 * that tool in this request, or, for a tool no longer offered, the one the rule gives it alone.
 */
export function callName(tools: HubTools, name: string, namespace: string | undefined): string {
  if (namespace === undefined) return name;
  const tool = tools.tools.find((t) => t.namespace === namespace && t.name === name);
  return tool?.hub ?? flatName(namespace, name, new Set());
}

/**
 * The tool a `tool_choice` names: a top-level one of that name, else the only one in a
 * namespace; `namespace` narrows it to that group. Undefined when there is none.
 */
export function findTool(
  tools: HubTools,
  query: { name: string; custom: boolean; namespace?: string },
  at: string,
): HubTool | undefined {
  const matches = tools.tools.filter((t) =>
    t.name === query.name && t.custom === query.custom &&
    (query.namespace === undefined || t.namespace === query.namespace)
  );
  const topLevel = matches.find((t) => t.namespace === undefined);
  if (topLevel !== undefined || matches.length <= 1) return topLevel ?? matches[0];
  const groups = matches.map((t) => t.namespace).join(", ");
  return fail(at, `"${query.name}" is in more than one namespace (${groups}): name one`);
}
