import { isRecord, type JsonObject } from "../../core/json.ts";
import { unsupportedField } from "../http_util.ts";

/**
 * The keys of Gemini's `Schema` object (an OpenAPI 3.0 subset). Anything else, such as
 * `additionalProperties`, `$schema`, `strict` or `$id`, makes Gemini answer 400 "Unknown name",
 * so the cleaner keeps only these (after resolving `$ref` and folding JSON-schema idioms in).
 */
const KEPT_KEYS = new Set([
  "type",
  "title",
  "description",
  "nullable",
  "enum",
  "minItems",
  "maxItems",
  "minProperties",
  "maxProperties",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "default",
  "example",
  "propertyOrdering",
]);

/** `format` values Gemini accepts; any other one is a 400 upstream, so it is dropped here. */
const KEPT_FORMATS = new Set(["enum", "date-time", "int32", "int64", "float", "double"]);

/** Deepest nesting followed; deeper schemas are refused rather than recursed into forever. */
const MAX_DEPTH = 32;

interface Walk {
  provider: string;
  /** The request field being cleaned, for error messages. */
  field: string;
  defs: JsonObject;
  /** `$ref`s being expanded on the current path, to refuse recursive schemas. */
  refs: string[];
  depth: number;
}

/**
 * Turns a JSON schema (OpenAI tool parameters, `response_format.json_schema.schema`) into
 * Gemini's schema dialect: keeps the keys Gemini knows, inlines local `$ref`s, maps
 * `type: [X, "null"]` to `nullable`, `const` to a one-value `enum`, `oneOf` to `anyOf`.
 */
export function toGeminiSchema(
  schema: unknown,
  options: { provider: string; field: string },
): JsonObject {
  const root = isRecord(schema) ? schema : {};
  const defs = { ...asRecord(root.definitions), ...asRecord(root.$defs) };
  return clean(root, { ...options, defs, refs: [], depth: 0 });
}

function clean(node: unknown, walk: Walk): JsonObject {
  if (!isRecord(node)) return {};
  if (walk.depth > MAX_DEPTH) {
    throw unsupportedField(walk.provider, walk.field, "schema nests too deeply for Gemini");
  }
  if (typeof node.$ref === "string") return resolveRef(node, node.$ref, walk);
  const deeper = { ...walk, depth: walk.depth + 1 };
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (KEPT_KEYS.has(key)) out[key] = value;
  }
  applyType(node.type, out);
  if (node.const !== undefined && out.enum === undefined) out.enum = [node.const];
  if (Array.isArray(out.enum) && out.enum.includes(null)) {
    // JSON schema lists null among the values; Gemini says `nullable` instead.
    out.enum = out.enum.filter((v) => v !== null);
    out.nullable = true;
  }
  if (typeof node.format === "string" && KEPT_FORMATS.has(node.format)) out.format = node.format;
  if (isRecord(node.properties)) {
    const properties: JsonObject = {};
    for (const [name, value] of Object.entries(node.properties)) {
      properties[name] = clean(value, deeper);
    }
    out.properties = properties;
    if (Array.isArray(node.required)) {
      out.required = node.required.filter((r) => typeof r === "string" && r in properties);
    }
  }
  if (node.items !== undefined) out.items = clean(node.items, deeper);
  const alternatives = Array.isArray(node.anyOf) ? node.anyOf : node.oneOf;
  if (Array.isArray(alternatives)) out.anyOf = alternatives.map((a) => clean(a, deeper));
  if (Array.isArray(node.allOf) && node.allOf.length === 1) {
    Object.assign(out, clean(node.allOf[0], deeper));
  }
  return out;
}

/** JSON schema's `type: ["string", "null"]` is Gemini's `type: "string", nullable: true`. */
function applyType(type: unknown, out: JsonObject): void {
  if (!Array.isArray(type)) return;
  const kinds = type.filter((t) => t !== "null");
  if (kinds.length < type.length) out.nullable = true;
  if (kinds.length === 1) out.type = kinds[0];
  else {
    delete out.type;
    if (kinds.length > 1) out.anyOf = kinds.map((t) => ({ type: t }));
  }
}

function resolveRef(node: JsonObject, ref: string, walk: Walk): JsonObject {
  const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(ref)?.[1];
  const target = name === undefined ? undefined : walk.defs[name];
  if (target === undefined) {
    throw unsupportedField(walk.provider, walk.field, `unresolvable $ref "${ref}"`);
  }
  if (walk.refs.includes(ref)) {
    throw unsupportedField(
      walk.provider,
      walk.field,
      `recursive $ref "${ref}" cannot be expressed in Gemini's schema`,
    );
  }
  const resolved = clean(target, { ...walk, refs: [...walk.refs, ref], depth: walk.depth + 1 });
  if (typeof node.description === "string") resolved.description = node.description;
  return resolved;
}

function asRecord(value: unknown): JsonObject {
  return isRecord(value) ? value : {};
}
