import { describe, expect, it } from 'vitest';
import { booleanParam, compilePipeline, numberParam, pipeline, stringParam, task } from '../../lib';
import { resolveParams } from '../../lib/compile/params';

const SPEC = {
  limit: { type: 'number', default: 10 },
  label: { type: 'string', default: 'daily' },
  dryRun: { type: 'boolean', default: false },
} as const;

describe('resolveParams', () => {
  it('takes the defaults, overridden by the given values read as their declared types', () => {
    expect(resolveParams('p', SPEC, { limit: '5', dryRun: 'true', label: '7' })).toStrictEqual({ limit: 5, label: '7', dryRun: true });
    expect(resolveParams('p', SPEC, { limit: 2.5, dryRun: false })).toStrictEqual({ limit: 2.5, label: 'daily', dryRun: false });
    expect(resolveParams('p', undefined)).toStrictEqual({});
  });

  it('fails naming every unknown name and wrong value, and the declared parameters', () => {
    expect(() => resolveParams('p', SPEC, { limit: 'ten', dryRun: 'yes', colour: 'red' })).toThrow(
      'Pipeline "p": parameter "limit" must be a number, not "ten"; parameter "dryRun" must be true or false, not "yes"; ' +
        'unknown parameter "colour" (parameters: limit, label, dryRun)',
    );
    expect(() => resolveParams('p', undefined, { limit: '1' })).toThrow('unknown parameter "limit" (it declares no parameters)');
    expect(() => resolveParams('p', SPEC, { limit: '' })).toThrow('parameter "limit" must be a number, not ""');
  });
});

describe('pipeline params', () => {
  const base = { name: 'p', tasks: { a: task({ handler: './a.ts' }) } };

  it('compiles declared parameters with their types and defaults', () => {
    const compiled = compilePipeline(pipeline({ ...base, params: { limit: numberParam({ default: 3 }), on: booleanParam({ default: true }) } }));
    expect(compiled.params).toStrictEqual({ limit: { type: 'number', default: 3 }, on: { type: 'boolean', default: true } });
  });

  it('fails a parameter whose name or default is invalid', () => {
    const bad = pipeline({
      ...base,
      params: { 'bad-name': stringParam({ default: 'x' }), limit: { type: 'number', default: 'ten' as unknown as number } },
    });
    expect(() => compilePipeline(bad)).toThrow(/invalid parameter name "bad-name"[\s\S]*parameter "limit" has default "ten", which is not a number/);
  });
});
