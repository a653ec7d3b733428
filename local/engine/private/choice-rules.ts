/**
 * The Choice rules aws-local-stepfunctions gets wrong, rewritten into ones it gets right.
 *
 * Its type tests (`IsPresent`, `IsNull`, `IsNumeric`, `IsString`, `IsBoolean`, `IsTimestamp`)
 * return `test && matches`, so a test set to `false` never matches: `{ "Variable": "$.x",
 * "IsPresent": false }` is false even where `$.x` is absent, where Step Functions takes it. Each
 * such rule is rewritten as the `Not` of the same test set to `true`, which means the same on AWS.
 */

import { rewriteStates } from './nested-states';

/** The type tests of a Choice rule. */
const TYPE_TESTS = ['IsPresent', 'IsNull', 'IsNumeric', 'IsString', 'IsBoolean', 'IsTimestamp'] as const;

type Json = Record<string, unknown>;

/** `definition` with every Choice rule's `IsX: false` written as `Not: { IsX: true }`, in every nested state machine. */
export function rewriteNegatedTypeTests(definition: Json): Json {
  return rewriteStates(definition, (state) => (state.Type === 'Choice' ? { ...state, Choices: ((state.Choices ?? []) as Json[]).map(rewriteRule) } : state));
}

function rewriteRule(rule: Json): Json {
  if (Array.isArray(rule.And)) return { ...rule, And: (rule.And as Json[]).map(rewriteRule) };
  if (Array.isArray(rule.Or)) return { ...rule, Or: (rule.Or as Json[]).map(rewriteRule) };
  if (rule.Not && typeof rule.Not === 'object') return { ...rule, Not: rewriteRule(rule.Not as Json) };
  const test = TYPE_TESTS.find((name) => rule[name] === false);
  if (!test) return rule;
  // `Next` (and `Comment`) stay on the top-level rule; the test moves inside the `Not`.
  const { [test]: _false, Variable, Next, Comment, ...rest } = rule;
  return { ...rest, ...(Next !== undefined && { Next }), ...(Comment !== undefined && { Comment }), Not: { Variable, [test]: true } };
}
