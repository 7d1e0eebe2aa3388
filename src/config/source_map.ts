/**
 * Maps a config path back to the line of the YAML source it came from.
 */

import { type Document, isAlias, isMap, isNode, isScalar, isSeq, type LineCounter } from "yaml";
import { type ConfigIssue, formatPath, type PendingIssue } from "./errors.ts";

/** Places an issue in the source: formats its path and finds its line. */
export function locateIssue(
  issue: PendingIssue,
  source: { doc: Document; counter: LineCounter },
): ConfigIssue {
  const { doc, counter } = source;
  const lineOf = (node: unknown): number | undefined =>
    isNode(node) && node.range ? counter.linePos(node.range[0]).line : undefined;

  let node: unknown = doc.contents;
  let line = lineOf(node);
  for (let depth = 0; depth < issue.path.length; depth++) {
    const segment = issue.path[depth];
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) =>
        isScalar(item.key) && String(item.key.value) === String(segment)
      );
      // Missing key: the parent mapping is the best place to point at.
      if (pair === undefined) break;
      if (issue.atKey && depth === issue.path.length - 1) {
        line = lineOf(pair.key) ?? line;
        break;
      }
      node = pair.value;
      line = lineOf(pair.value) ?? lineOf(pair.key) ?? line;
    } else if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      if (item === undefined) break;
      node = item;
      line = lineOf(item) ?? line;
    } else {
      // The path runs past a scalar (e.g. the string shorthand of a `{model: ...}` target), so
      // the scalar itself is what the issue is about; name it rather than a key it lacks.
      return { path: formatPath(issue.path.slice(0, depth)), line, message: issue.message };
    }
  }
  return { path: formatPath(issue.path), line, message: issue.message };
}
