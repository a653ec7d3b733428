/**
 * Evaluates IAM identity policies for one request, as AWS does within one account: an explicit
 * Deny wins, then any Allow, else the request is implicitly denied.
 *
 * Written here rather than taken from a library: `@cloud-copilot/iam-simulate` is AGPL-licensed,
 * and `pbac` (MIT) evaluates only the first key of each condition operator, silently compares a
 * context key it does not know as the key's own name, and matches actions case-sensitively. The
 * local runtime must instead refuse what AWS refuses and say when it cannot tell: a statement
 * whose condition it cannot evaluate makes the decision `undecided`, naming the condition, never
 * a silent allow or deny.
 *
 * Supported: Effect, Action/NotAction (case-insensitive, `*` and `?`), Resource/NotResource
 * (`*` and `?`), and conditions with the String, Arn and Bool operators (with `IfExists`) and
 * `Null`, over the context keys the caller supplies. Not supported, so reported: other
 * operators, `ForAnyValue:`/`ForAllValues:`, policy variables (`${...}`) and context keys the
 * caller does not know.
 *
 * @see https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
 */

/** One statement of a policy document, as CloudFormation holds it once resolved. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | readonly string[];
  readonly NotAction?: string | readonly string[];
  readonly Resource?: string | readonly string[];
  readonly NotResource?: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** A request to authorize: `service:Action` on a resource ARN, with the context keys known. */
export interface AuthorizationRequest {
  readonly action: string;
  readonly resource: string;
  /**
   * Values of the condition keys the caller knows (`aws:SecureTransport`: `'true'`). A key
   * missing here is one the evaluator cannot evaluate.
   */
  readonly context?: Readonly<Record<string, string>>;
}

/** The outcome, with what decided it. */
export type Decision =
  | { readonly kind: 'allowed'; readonly statement: PolicyStatement }
  | { readonly kind: 'explicitly-denied'; readonly statement: PolicyStatement }
  | { readonly kind: 'implicitly-denied' }
  | {
      /** A statement that could decide the request has a condition the evaluator cannot evaluate. */
      readonly kind: 'undecided';
      readonly statement: PolicyStatement;
      readonly reason: string;
    };

type Match = { kind: 'yes' } | { kind: 'no' } | { kind: 'unknown'; reason: string };

/** Decides `request` against the statements of every policy of one identity. */
export function evaluatePolicies(statements: readonly PolicyStatement[], request: AuthorizationRequest): Decision {
  const applicable = statements.filter((s) => appliesTo(s, request));
  let undecided: Decision | undefined;
  for (const statement of applicable.filter((s) => s.Effect === 'Deny')) {
    const match = conditionsHold(statement, request);
    if (match.kind === 'yes') return { kind: 'explicitly-denied', statement };
    if (match.kind === 'unknown') undecided ??= { kind: 'undecided', statement, reason: match.reason };
  }
  // A Deny that might apply leaves the request undecided, whatever allows it.
  if (undecided) return undecided;
  for (const statement of applicable.filter((s) => s.Effect === 'Allow')) {
    const match = conditionsHold(statement, request);
    if (match.kind === 'yes') return { kind: 'allowed', statement };
    if (match.kind === 'unknown') undecided ??= { kind: 'undecided', statement, reason: match.reason };
  }
  return undecided ?? { kind: 'implicitly-denied' };
}

function appliesTo(statement: PolicyStatement, request: AuthorizationRequest): boolean {
  const actionMatches = (patterns: string | readonly string[]) =>
    list(patterns).some((pattern) => wildcard(pattern, true).test(request.action));
  const resourceMatches = (patterns: string | readonly string[]) =>
    list(patterns).some((pattern) => wildcard(pattern, false).test(request.resource));
  if (statement.Action !== undefined && !actionMatches(statement.Action)) return false;
  if (statement.NotAction !== undefined && actionMatches(statement.NotAction)) return false;
  if (statement.Resource !== undefined && !resourceMatches(statement.Resource)) return false;
  if (statement.NotResource !== undefined && resourceMatches(statement.NotResource)) return false;
  return true;
}

function conditionsHold(statement: PolicyStatement, request: AuthorizationRequest): Match {
  for (const pattern of [...list(statement.Resource ?? []), ...list(statement.NotResource ?? [])]) {
    if (pattern.includes('${')) return { kind: 'unknown', reason: `resource "${pattern}" uses a policy variable` };
  }
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const match = condition(operator, key, list(expected as string | string[]).map(String), request.context ?? {});
      if (match.kind !== 'yes') return match;
    }
  }
  return { kind: 'yes' };
}

const STRING_OPERATORS: Readonly<Record<string, (actual: string, expected: string) => boolean>> = {
  StringEquals: (a, e) => a === e,
  StringNotEquals: (a, e) => a !== e,
  StringEqualsIgnoreCase: (a, e) => a.toLowerCase() === e.toLowerCase(),
  StringNotEqualsIgnoreCase: (a, e) => a.toLowerCase() !== e.toLowerCase(),
  StringLike: (a, e) => wildcard(e, false).test(a),
  StringNotLike: (a, e) => !wildcard(e, false).test(a),
  ArnEquals: (a, e) => wildcard(e, false).test(a),
  ArnLike: (a, e) => wildcard(e, false).test(a),
  ArnNotEquals: (a, e) => !wildcard(e, false).test(a),
  ArnNotLike: (a, e) => !wildcard(e, false).test(a),
  Bool: (a, e) => a.toLowerCase() === e.toLowerCase(),
};

/** A negated operator holds when the value matches none of the expected values, not just one. */
const NEGATED = new Set(['StringNotEquals', 'StringNotEqualsIgnoreCase', 'StringNotLike', 'ArnNotEquals', 'ArnNotLike']);

function condition(operator: string, key: string, expected: readonly string[], context: Readonly<Record<string, string>>): Match {
  const described = `${operator} on ${key}`;
  if (operator === 'Null') {
    if (!(key in context)) return { kind: 'unknown', reason: `condition ${described}: the local runtime does not know ${key}` };
    return { kind: expected.some((e) => (e.toLowerCase() === 'true') === (context[key] === undefined)) ? 'yes' : 'no' };
  }
  const ifExists = operator.endsWith('IfExists');
  const base = ifExists ? operator.slice(0, -'IfExists'.length) : operator;
  const compare = STRING_OPERATORS[base];
  if (!compare) return { kind: 'unknown', reason: `condition operator ${operator} is not evaluated locally` };
  if (!(key in context)) return { kind: 'unknown', reason: `condition ${described}: the local runtime does not know ${key}` };
  const actual = context[key];
  if (actual === undefined) return { kind: ifExists ? 'yes' : 'no' };
  const holds = NEGATED.has(base) ? expected.every((e) => compare(actual, e)) : expected.some((e) => compare(actual, e));
  return { kind: holds ? 'yes' : 'no' };
}

/**
 * Patterns compiled so far: they come from the template's policies, a few hundred at most, and
 * every AWS call a function makes is checked against them (compiling them again was a tenth of
 * the authorization's cost).
 */
const compiled = new Map<string, RegExp>();

/** An IAM wildcard pattern (`*` any run, `?` one character) as an anchored regular expression. */
function wildcard(pattern: string, ignoreCase: boolean): RegExp {
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = compiled.get(cacheKey);
  if (!regex) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    compiled.set(cacheKey, regex);
  }
  return regex;
}

function list<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? value : [value as T];
}
