import type { ParamDefinition } from '../definitions/params';
import type { ParamValue } from './contract';

/** Parameter names: they are keys of `event.params` and of `--param name=value`. */
export const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Declared parameters, as the launcher reads them from its configuration. */
export type ParamSpec = Readonly<Record<string, Pick<ParamDefinition, 'type' | 'default'>>>;

/** Thrown when a launch gives a parameter the pipeline does not declare, or a value of the wrong type. */
export class InvalidParamsError extends Error {
  constructor(pipeline: string, problems: readonly string[]) {
    super(`Pipeline "${pipeline}": ${problems.join('; ')}`);
    this.name = 'InvalidParamsError';
  }
}

/**
 * The parameters of a run: the declared defaults, overridden by `given` (pure). A given value may
 * be typed (JSON input) or text (`--param limit=10`): text is read as the declared type (`true`
 * or `false` for a boolean, a finite number for a number).
 *
 * @throws InvalidParamsError naming every unknown name and wrong value, and the fix
 */
export function resolveParams(
  pipeline: string,
  declared: ParamSpec | undefined,
  given: Readonly<Record<string, unknown>> = {},
): Record<string, ParamValue> {
  const spec = declared ?? {};
  const problems: string[] = [];
  const params: Record<string, ParamValue> = Object.fromEntries(Object.entries(spec).map(([name, p]) => [name, p.default]));
  const known = Object.keys(spec);
  for (const [name, value] of Object.entries(given)) {
    const param = spec[name];
    if (!param) {
      problems.push(`unknown parameter "${name}" (${known.length > 0 ? `parameters: ${known.join(', ')}` : 'it declares no parameters'})`);
      continue;
    }
    const read = readValue(param.type, value);
    if (read === undefined) {
      problems.push(`parameter "${name}" must be ${article(param.type)}, not ${JSON.stringify(value)}`);
      continue;
    }
    params[name] = read;
  }
  if (problems.length > 0) throw new InvalidParamsError(pipeline, problems);
  return params;
}

function readValue(type: ParamDefinition['type'], value: unknown): ParamValue | undefined {
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'number': {
      if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
      if (typeof value !== 'string' || value.trim() === '') return undefined;
      const n = Number(value);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      return value === 'true' ? true : value === 'false' ? false : undefined;
  }
}

function article(type: ParamDefinition['type']): string {
  return type === 'string' ? 'a string' : type === 'number' ? 'a number' : 'true or false';
}
