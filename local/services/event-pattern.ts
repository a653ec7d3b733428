/**
 * EventBridge content filtering, evaluated in-process against the rule patterns found in the
 * template. An operator this matcher does not implement throws {@link EventPatternError}: a rule
 * that silently matched everything (or nothing) locally would start the wrong pipelines.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html
 */

/** Thrown for a malformed pattern or an operator the local matcher does not implement. */
export class EventPatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EventPatternError';
  }
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const SUPPORTED = 'exact values, prefix, suffix, wildcard, anything-but, exists, numeric, equals-ignore-case, $or';

/**
 * Whether `event` matches the EventBridge event `pattern`.
 *
 * @throws EventPatternError when the pattern is malformed or uses an operator not implemented here
 *   (for example `cidr`), naming the operator and where it is.
 */
export function matchesPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new EventPatternError('An event pattern must be a JSON object.');
  checkOperators(pattern, '');
  return matchObject(pattern, event as Json | undefined, '');
}

const OPERATORS = new Set(['prefix', 'suffix', 'wildcard', 'anything-but', 'exists', 'numeric', 'equals-ignore-case']);

/**
 * Rejects unknown operators before matching: matching short-circuits, so an operator behind a
 * field that already failed would otherwise go unnoticed until some event reached it.
 */
function checkOperators(pattern: JsonObject, path: string): void {
  for (const [key, condition] of Object.entries(pattern)) {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or' && Array.isArray(condition)) {
      condition.filter(isObject).forEach((alternative) => checkOperators(alternative, path));
    } else if (isObject(condition)) {
      checkOperators(condition, at);
    } else if (Array.isArray(condition)) {
      for (const operator of condition.filter(isObject).flatMap((match) => Object.keys(match))) {
        if (!OPERATORS.has(operator)) {
          throw new EventPatternError(
            `Event pattern operator "${operator}" at "${at}" is not supported by the local EventBridge matcher (supported: ${SUPPORTED}).`,
          );
        }
      }
    }
  }
}

function matchObject(pattern: JsonObject, value: Json | undefined, path: string): boolean {
  if (Array.isArray(value)) return value.some((element) => matchObject(pattern, element, path));
  const target = isObject(value) ? value : undefined;
  return Object.entries(pattern).every(([key, condition]) => {
    const at = path ? `${path}.${key}` : key;
    if (key === '$or') return matchOr(condition, target, path, at);
    const field = target?.[key];
    if (Array.isArray(condition)) return matchLeaf(condition, field, at);
    if (isObject(condition)) return matchObject(condition, field, at);
    throw new EventPatternError(
      `Event pattern field "${at}" must be an array of match values or a nested object, got ${JSON.stringify(condition)}.`,
    );
  });
}

/** `$or` holds alternative patterns for the object it sits in: one of them must match as well. */
function matchOr(alternatives: Json, target: JsonObject | undefined, path: string, at: string): boolean {
  if (!Array.isArray(alternatives) || alternatives.length < 2 || !alternatives.every(isObject)) {
    throw new EventPatternError(`Event pattern "${at}" must be an array of at least two pattern objects.`);
  }
  return alternatives.some((alternative) => matchObject(alternative as JsonObject, target ?? {}, path));
}

/** A leaf: the field matches when any condition matches (an event array matches when any element does). */
function matchLeaf(conditions: Json[], field: Json | undefined, at: string): boolean {
  if (conditions.length === 0) throw new EventPatternError(`Event pattern field "${at}" has an empty array of match values.`);
  return conditions.some((condition) => {
    if (isObject(condition)) return matchOperator(condition, field, at);
    return leaves(field).some((value) => value === condition);
  });
}

function matchOperator(condition: JsonObject, field: Json | undefined, at: string): boolean {
  const keys = Object.keys(condition);
  if (keys.length !== 1) {
    throw new EventPatternError(
      `Event pattern field "${at}" has a match object with ${keys.length} operators (${keys.join(', ')}); use exactly one per object.`,
    );
  }
  const operator = keys[0]!;
  const operand = condition[operator]!;
  if (operator === 'exists') {
    if (typeof operand !== 'boolean') throw new EventPatternError(`"exists" at "${at}" takes true or false.`);
    return (leaves(field).length > 0) === operand;
  }
  const values = leaves(field);
  switch (operator) {
    case 'prefix':
    case 'suffix':
    case 'wildcard':
    case 'equals-ignore-case':
      return values.some((value) => matchString(operator, operand, value, at));
    case 'anything-but':
      return values.some((value) => !matchAnythingBut(operand, value, at));
    case 'numeric':
      return values.some((value) => typeof value === 'number' && matchNumeric(operand, value, at));
    default:
      throw new EventPatternError(
        `Event pattern operator "${operator}" at "${at}" is not supported by the local EventBridge matcher (supported: ${SUPPORTED}).`,
      );
  }
}

type StringOperator = 'prefix' | 'suffix' | 'wildcard' | 'equals-ignore-case';

/** `prefix` and `suffix` also accept `{ "equals-ignore-case": "..." }` as their operand. */
function matchString(operator: StringOperator, operand: Json, value: Json, at: string): boolean {
  let expected = operand;
  let ignoreCase = operator === 'equals-ignore-case';
  if ((operator === 'prefix' || operator === 'suffix') && isObject(operand)) {
    const [inner, ...rest] = Object.keys(operand);
    if (inner !== 'equals-ignore-case' || rest.length > 0) {
      throw new EventPatternError(`"${operator}" at "${at}" takes a string or { "equals-ignore-case": string }.`);
    }
    expected = operand[inner]!;
    ignoreCase = true;
  }
  if (typeof expected !== 'string') throw new EventPatternError(`"${operator}" at "${at}" takes a string, got ${JSON.stringify(expected)}.`);
  if (typeof value !== 'string') return false;
  const [actual, wanted] = ignoreCase ? [value.toLowerCase(), expected.toLowerCase()] : [value, expected];
  switch (operator) {
    case 'prefix':
      return actual.startsWith(wanted);
    case 'suffix':
      return actual.endsWith(wanted);
    case 'equals-ignore-case':
      return actual === wanted;
    case 'wildcard':
      return wildcardRegExp(expected, at).test(value);
  }
}

/** Whether `value` is one of the things excluded by `anything-but`'s operand. */
function matchAnythingBut(operand: Json, value: Json, at: string): boolean {
  if (typeof operand === 'string' || typeof operand === 'number') return value === operand;
  if (Array.isArray(operand)) {
    const allStrings = operand.every((item) => typeof item === 'string');
    const allNumbers = operand.every((item) => typeof item === 'number');
    if (operand.length === 0 || !(allStrings || allNumbers)) {
      throw new EventPatternError(`"anything-but" at "${at}" takes a non-empty list of only strings or only numbers.`);
    }
    return operand.some((item) => item === value);
  }
  if (isObject(operand)) {
    const keys = Object.keys(operand);
    const inner = keys[0];
    if (keys.length !== 1 || !['prefix', 'suffix', 'wildcard', 'equals-ignore-case'].includes(inner!)) {
      throw new EventPatternError(
        `"anything-but" at "${at}" takes a value, a list, or one of prefix, suffix, wildcard, equals-ignore-case; got ${JSON.stringify(operand)}.`,
      );
    }
    const innerOperand = operand[inner!]!;
    if (inner === 'equals-ignore-case' && Array.isArray(innerOperand)) {
      return innerOperand.some((item) => matchString('equals-ignore-case', item, value, at));
    }
    return matchString(inner as StringOperator, innerOperand, value, at);
  }
  throw new EventPatternError(`"anything-but" at "${at}" cannot take ${JSON.stringify(operand)}.`);
}

const COMPARATORS: Readonly<Record<string, (a: number, b: number) => boolean>> = {
  '=': (a, b) => a === b,
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function matchNumeric(operand: Json, value: number, at: string): boolean {
  if (!Array.isArray(operand) || operand.length === 0 || operand.length % 2 !== 0) {
    throw new EventPatternError(`"numeric" at "${at}" takes pairs of comparator and number, e.g. [">", 0, "<=", 5].`);
  }
  for (let i = 0; i < operand.length; i += 2) {
    const comparator = operand[i];
    const bound = operand[i + 1];
    const compare = typeof comparator === 'string' ? COMPARATORS[comparator] : undefined;
    if (!compare || typeof bound !== 'number') {
      throw new EventPatternError(`"numeric" at "${at}" has an invalid pair ${JSON.stringify([comparator, bound])}.`);
    }
    if (!compare(value, bound)) return false;
  }
  return true;
}

/** `*` matches any run of characters; `\*` and `\\` are a literal star and backslash. */
function wildcardRegExp(wildcard: string, at: string): RegExp {
  if (wildcard.includes('**')) throw new EventPatternError(`"wildcard" at "${at}" cannot contain consecutive stars: "${wildcard}".`);
  let source = '';
  for (let i = 0; i < wildcard.length; i++) {
    const char = wildcard[i]!;
    if (char === '\\') {
      const next = wildcard[++i];
      if (next !== '*' && next !== '\\') throw new EventPatternError(`"wildcard" at "${at}" has an invalid escape in "${wildcard}".`);
      source += `\\${next}`;
    } else if (char === '*') {
      source += '[\\s\\S]*';
    } else {
      source += char.replace(/[.+?^${}()|[\]\\/-]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`);
}

/** The leaf values of a field: none when absent or an object, the scalar elements of an array. */
function leaves(field: Json | undefined): Json[] {
  if (field === undefined) return [];
  if (Array.isArray(field)) return field.filter((element) => !isObject(element) && !Array.isArray(element));
  return isObject(field) ? [] : [field];
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
