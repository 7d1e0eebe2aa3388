/**
 * Config errors: every problem names the field path and, when known, the source line.
 */

/** One step of a path into the config document: a mapping key or a list index. */
export type PathSegment = string | number;

/** A problem found before it has been placed in the source file. */
export interface PendingIssue {
  path: PathSegment[];
  message: string;
  /** Point at the key itself (e.g. an unknown key) rather than at its value. */
  atKey?: boolean;
}

/** One problem in a config file. */
export interface ConfigIssue {
  /** `providers[1].target_url`; empty for problems that concern the whole file. */
  path: string;
  /** 1-based source line, when the problem can be placed. */
  line?: number;
  message: string;
}

/** The config could not be read or is invalid; `issues` lists every problem found. */
export class ConfigError extends Error {
  /** Each problem, in source order. */
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[], options: { filename?: string; cause?: unknown } = {}) {
    super(issues.map((issue) => formatIssue(issue, options.filename)).join("\n"), {
      cause: options.cause,
    });
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** Renders one issue as `path: message (file:line)`. */
export function formatIssue(issue: ConfigIssue, filename?: string): string {
  const head = issue.path === "" ? issue.message : `${issue.path}: ${issue.message}`;
  if (issue.line === undefined) return head;
  return filename === undefined
    ? `${head} (line ${issue.line})`
    : `${head} (${filename}:${issue.line})`;
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Renders a path as `a.b[1].c`, quoting keys that would otherwise be ambiguous. */
export function formatPath(path: readonly PathSegment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
