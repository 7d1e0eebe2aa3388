/**
 * `tool_choice` and `parallel_tool_calls` in the hub's terms. A choice that forces a built-in
 * tool is refused: the target cannot run it, and leaving the tool out would answer something else.
 */
import type { JsonObject } from "../../core/json.ts";
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
import { findTool, type HubTool, type HubTools } from "./tools.ts";

/** Sets `tools`, `tool_choice` and `parallel_tool_calls` on the Chat request `out`. */
export function copyTools(
  body: JsonObject,
  hub: HubTools,
  out: JsonObject,
  dropped: Dropped,
): void {
  const parallel = isSet(body.parallel_tool_calls)
    ? booleanAt(body.parallel_tool_calls, "parallel_tool_calls")
    : undefined;
  let tools = hub.tools;
  let choice: unknown;
  if (isSet(body.tool_choice)) {
    const chosen = toolChoice(body.tool_choice, hub);
    choice = chosen.choice;
    if (chosen.only !== undefined) tools = tools.filter((tool) => chosen.only!.has(tool));
  }
  if (tools.length === 0) {
    if (choice === "required") {
      fail(
        "tool_choice",
        hub.builtIns.size > 0
          ? `"required" leaves only built-in tools, which the target cannot run`
          : `"required" needs at least one function tool`,
      );
    }
    // Chat refuses tool_choice and parallel_tool_calls without tools: they would mean nothing.
    if (choice !== undefined) dropped.add("tool_choice");
    if (parallel !== undefined) dropped.add("parallel_tool_calls");
    return;
  }
  out.tools = tools.map((tool) => tool.tool);
  if (choice !== undefined) out.tool_choice = choice;
  if (parallel !== undefined) out.parallel_tool_calls = parallel;
}

/** The Chat `tool_choice`, and the tools it allows when it narrows them (`allowed_tools`). */
function toolChoice(raw: unknown, hub: HubTools): { choice: unknown; only?: Set<HubTool> } {
  if (typeof raw === "string") {
    if (raw === "auto" || raw === "none" || raw === "required") return { choice: raw };
    return fail("tool_choice", 'must be "auto", "none", "required" or an object');
  }
  const choice = recordAt(raw, "tool_choice");
  const type = typeOf(choice, "tool_choice");
  switch (type) {
    case "function":
    case "custom": {
      const tool = namedTool(choice, type === "custom", hub, "tool_choice");
      return { choice: { type: "function", function: { name: tool.hub } } };
    }
    case "allowed_tools":
      return allowedTools(choice, hub);
  }
  return fail("tool_choice", `forces "${type}", a built-in tool the target cannot run`);
}

/** The tool a `{type: "function" | "custom", name}` names, or a refusal naming `at.name`. */
function namedTool(choice: JsonObject, custom: boolean, hub: HubTools, at: string): HubTool {
  const name = stringAt(choice.name, `${at}.name`);
  const namespace = isSet(choice.namespace)
    ? stringAt(choice.namespace, `${at}.namespace`)
    : undefined;
  const tool = findTool(hub, { name, custom, namespace }, `${at}.name`);
  if (tool !== undefined) return tool;
  return fail(`${at}.name`, `no ${custom ? "custom" : "function"} tool is named "${name}"`);
}

/**
 * `allowed_tools` becomes its mode (`auto` or `required`) over only the allowed tools: the model
 * can call the same tools, though it no longer sees the others. Built-in entries are ignored, as
 * the tools they name are left out.
 */
function allowedTools(choice: JsonObject, hub: HubTools): { choice: unknown; only: Set<HubTool> } {
  const mode = choice.mode;
  if (mode !== "auto" && mode !== "required") {
    fail("tool_choice.mode", 'must be "auto" or "required"');
  }
  const only = new Set<HubTool>();
  listAt(choice.tools, "tool_choice.tools").forEach((raw, i) => {
    const at = `tool_choice.tools[${i}]`;
    const entry = recordAt(raw, at);
    const type = typeOf(entry, at);
    if (type === "function" || type === "custom") {
      only.add(namedTool(entry, type === "custom", hub, at));
    } else if (type === "namespace") {
      const namespace = stringAt(entry.name, `${at}.name`);
      const group = hub.tools.filter((tool) => tool.namespace === namespace);
      if (group.length === 0) fail(`${at}.name`, `no namespace is named "${namespace}"`);
      for (const tool of group) only.add(tool);
    }
  });
  return { choice: mode, only };
}
