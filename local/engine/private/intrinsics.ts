/**
 * CloudFormation intrinsic functions, resolved to local values. Only what a CDK template uses to
 * wire resources together is supported; anything else is an error naming where it was found.
 */

/** Thrown when a template value uses an intrinsic the local runtime cannot resolve. */
export class IntrinsicError extends Error {
  constructor(where: string, intrinsic: string, problem: string) {
    super(`${where}: cannot resolve ${intrinsic} locally: ${problem}`);
    this.name = 'IntrinsicError';
  }
}

/** What resolving needs to know about the stack a value sits in. */
export interface IntrinsicScope {
  readonly stackName: string;
  readonly region: string;
  readonly account: string;
  /** `Ref` of a resource or a template parameter. */
  ref(logicalId: string, where: string): unknown;
  /** `Fn::GetAtt` of a resource. */
  getAtt(logicalId: string, attribute: string, where: string): unknown;
  /** `Fn::ImportValue`: the value another stack of the stage exports under `name`. */
  importValue(name: string, where: string): unknown;
  readonly mappings: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
}

/** Marks a property that `Ref: AWS::NoValue` removed. */
const NO_VALUE = Symbol('AWS::NoValue');

/** Resolves every intrinsic in `value`; `where` names the resource and property for errors. */
export function resolveValue(value: unknown, scope: IntrinsicScope, where: string): unknown {
  const resolved = resolveAny(value, scope, where);
  return resolved === NO_VALUE ? undefined : resolved;
}

function resolveAny(value: unknown, scope: IntrinsicScope, where: string): unknown {
  if (Array.isArray(value)) {
    return value.map((v, i) => resolveAny(v, scope, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
  }
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
    return resolveIntrinsic(entries[0][0], entries[0][1], scope, where);
  }
  const out: Record<string, unknown> = {};
  for (const [key, v] of entries) {
    const resolved = resolveAny(v, scope, `${where}.${key}`);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function pseudo(name: string, scope: IntrinsicScope): unknown {
  switch (name) {
    case 'AWS::Region':
      return scope.region;
    case 'AWS::AccountId':
      return scope.account;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return scope.stackName;
    case 'AWS::StackId':
      return `arn:aws:cloudformation:${scope.region}:${scope.account}:stack/${scope.stackName}/local`;
    case 'AWS::NotificationARNs':
      return [];
    case 'AWS::NoValue':
      return NO_VALUE;
    default:
      return undefined;
  }
}

function resolveIntrinsic(name: string, arg: unknown, scope: IntrinsicScope, where: string): unknown {
  const fail = (problem: string): never => {
    throw new IntrinsicError(where, name, problem);
  };
  const str = (v: unknown, what: string): string => {
    const r = resolveAny(v, scope, where);
    if (typeof r === 'string') return r;
    if (typeof r === 'number' || typeof r === 'boolean') return String(r);
    return fail(`${what} must resolve to a string, got ${JSON.stringify(r)}`);
  };
  switch (name) {
    case 'Ref': {
      if (typeof arg !== 'string') return fail(`expected a logical id, got ${JSON.stringify(arg)}`);
      const p = pseudo(arg, scope);
      return p !== undefined ? p : scope.ref(arg, where);
    }
    case 'Fn::GetAtt': {
      const parts = typeof arg === 'string' ? splitAttribute(arg) : Array.isArray(arg) ? arg : undefined;
      if (!parts || parts.length !== 2) return fail(`expected [logicalId, attribute], got ${JSON.stringify(arg)}`);
      return scope.getAtt(str(parts[0], 'the logical id'), str(parts[1], 'the attribute'), where);
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2) return fail(`expected [delimiter, list], got ${JSON.stringify(arg)}`);
      const list = resolveAny(arg[1], scope, where);
      if (!Array.isArray(list)) return fail('the list must resolve to an array');
      return list.map((item) => str(item, 'every item')).join(str(arg[0], 'the delimiter'));
    }
    case 'Fn::Sub': {
      const [template, variables] = typeof arg === 'string' ? [arg, {}] : Array.isArray(arg) ? [arg[0], arg[1] ?? {}] : [undefined, {}];
      if (typeof template !== 'string' || typeof variables !== 'object' || variables === null) {
        return fail(`expected a string or [string, variables], got ${JSON.stringify(arg)}`);
      }
      return template.replace(/\$\{([^}]*)\}/g, (_, expr: string) => {
        if (expr.startsWith('!')) return `\${${expr.slice(1)}}`;
        const name = expr.trim();
        if (Object.hasOwn(variables, name)) return str((variables as Record<string, unknown>)[name], `variable ${name}`);
        const p = pseudo(name, scope);
        if (p !== undefined) return String(p);
        const dot = name.indexOf('.');
        const v = dot > 0 ? scope.getAtt(name.slice(0, dot), name.slice(dot + 1), where) : scope.ref(name, where);
        return str(v, `\${${name}}`);
      });
    }
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2) return fail(`expected [index, list], got ${JSON.stringify(arg)}`);
      const index = Number(resolveAny(arg[0], scope, where));
      const list = resolveAny(arg[1], scope, where);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        return fail(`index ${index} is out of the list ${JSON.stringify(list)}`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2) return fail(`expected [delimiter, string], got ${JSON.stringify(arg)}`);
      return str(arg[1], 'the string').split(str(arg[0], 'the delimiter'));
    }
    case 'Fn::ImportValue':
      return scope.importValue(str(arg, 'the export name'), where);
    case 'Fn::Base64':
      return Buffer.from(str(arg, 'the value')).toString('base64');
    case 'Fn::FindInMap': {
      if (!Array.isArray(arg) || arg.length < 3) return fail(`expected [map, key, key], got ${JSON.stringify(arg)}`);
      const [map, top, second] = [str(arg[0], 'the map'), str(arg[1], 'the key'), str(arg[2], 'the key')];
      const found = scope.mappings[map]?.[top]?.[second];
      return found !== undefined ? found : fail(`no mapping ${map}.${top}.${second} in the template`);
    }
    default:
      return fail('the local runtime supports Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split, Fn::ImportValue, Fn::Base64 and Fn::FindInMap');
  }
}

function splitAttribute(text: string): string[] {
  const dot = text.indexOf('.');
  return dot > 0 ? [text.slice(0, dot), text.slice(dot + 1)] : [text];
}
