// What an error may say to a caller, in one place for every service: messages that describe a client's mistake are
// passed on (capped in length, because they may quote what the client sent: a key name, a value), while anything
// unexpected is answered with a fixed text and only logged. The worker, the backend and result messages all cap
// through here, so no answer can carry an internal stack, a path or megabytes of echoed input.

/** Longest error message any service puts in an answer, in characters. */
export const MAX_ERROR_CHARS = 500;

/** The whole answer to an error nobody planned for; the details go to the service's log, never to the caller. */
export const INTERNAL_ERROR_MESSAGE = 'internal error; the details are in the server log';

/** `message` cut to MAX_ERROR_CHARS (an ellipsis marks the cut). */
export function publicErrorMessage(message: string): string {
  return message.length <= MAX_ERROR_CHARS ? message : `${message.slice(0, MAX_ERROR_CHARS - 1)}…`;
}

/**
 * A short description of an untrusted value for an error message: never JSON.stringify on it (a BigInt or a
 * cycle would throw), and never more than a few dozen characters of it.
 */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return String(v);
    case 'bigint':
      return `${v}n`;
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
    case 'undefined':
      return 'nothing';
    default:
      return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a value of type ${typeof v}`;
  }
}

/** At most this many schema issues are listed in one message (a hostile body can have thousands). */
const MAX_ISSUES = 5;

/** Schema issues (zod's shape) as one line: `path: message; ...`, the first few only. */
export function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  const shown = issues
    .slice(0, MAX_ISSUES)
    .map((i) => `${i.path.map((p) => String(p).slice(0, 40)).join('.') || '(root)'}: ${i.message}`);
  const more = issues.length - shown.length;
  return shown.join('; ') + (more > 0 ? `; and ${more} more` : '');
}

/**
 * The one message of a failed schema check, in every service (edge, backend, wire decoding): `invalid <what>:
 * path: message; …` — what was being read, then which fields were wrong and why.
 */
export function validationMessage(
  what: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  return `invalid ${what}: ${describeIssues(issues)}`;
}
