import { describe, expect, it } from 'vitest';
import { stages } from '../../examples/sluice.config';
import { compilePipeline, pipeline, s3Arrival, task } from '../../lib';
import { assertBucketsKnown, selectStages, validateStages, type StageConfig } from '../../lib/stacks/stage-config';

const dev: StageConfig = { name: 'dev', account: '111111111111', region: 'eu-west-1', buckets: { raw: { kind: 'managed' } } };

describe('validateStages', () => {
  it('accepts the project configuration, with a local stage on the dummy account', () => {
    expect(stages.map((s) => s.name)).toStrictEqual(['local', 'dev', 'test', 'prod']);
    expect(stages[0]).toMatchObject({ account: '000000000000', region: 'us-east-1' });
  });

  it('fails listing every problem of every stage', () => {
    expect(() =>
      validateStages([
        { ...dev, account: '42', buckets: { Raw: { kind: 'imported', bucketName: 'Not_A_Bucket' } } },
        { ...dev, region: 'moon', alertEmails: ['nobody'] },
      ]),
    ).toThrow(
      [
        'Invalid stage configuration (sluice.config.ts):',
        '  - stage "dev": account "42" is not a 12-digit AWS account id',
        '  - stage "dev": bucket "Raw": logical names are lowercase letters, digits and "-", starting with a letter',
        '  - stage "dev": bucket "Raw": "Not_A_Bucket" is not a valid S3 bucket name',
        '  - stage "dev": declared twice; give each stage a unique name',
        '  - stage "dev": region "moon" is not an AWS region such as eu-west-1',
        '  - stage "dev": alert email "nobody" is not an email address',
      ].join('\n'),
    );
  });

  it('fails a stage name too long for the state machine names derived from it', () => {
    // Given a stage whose `<stage>-<pipeline>-backfill` state machine could exceed 80 characters
    const name = 'integration-eu-west-1a';
    // When it is validated, Then the message names the limit
    expect(() => validateStages([{ ...dev, name }])).toThrow(
      `stage "${name}": invalid name; use at most 20 letters, digits and "-", starting with a letter`,
    );
  });
});

describe('selectStages', () => {
  it('keeps the stages named in SLUICE_STAGES, or all when unset', () => {
    expect(selectStages(stages, 'local, prod').map((s) => s.name)).toStrictEqual(['local', 'prod']);
    expect(selectStages(stages, undefined)).toBe(stages);
  });

  it('fails on an unknown stage, listing the known ones', () => {
    expect(() => selectStages(stages, 'local,staging')).toThrow(
      'SLUICE_STAGES names unknown stage(s) "staging"; known: local, dev, test, prod',
    );
  });
});

describe('assertBucketsKnown', () => {
  it('fails a trigger on an imported bucket that does not say who turns on its EventBridge notifications', () => {
    // Given a stage importing "raw" without eventBridge, and a pipeline watching it
    const stage: StageConfig = { ...dev, buckets: { raw: { kind: 'imported', bucketName: 'acme-raw' } } };
    const compiled = compilePipeline(
      pipeline({ name: 'orders', triggers: [s3Arrival({ bucket: 'raw' })], tasks: { load: task({ handler: './load.ts' }) } }),
    );
    // When checked, Then synth would fail with the fix; with either answer it passes
    expect(() => assertBucketsKnown(stage, [compiled])).toThrow(
      `pipeline "orders", s3Arrival trigger: bucket "raw" of stage "dev" is imported (acme-raw), and nothing says it sends events to EventBridge, so the trigger would never fire. Fix: in sluice.config.ts set eventBridge: 'sluice' on it to have the platform stack turn its EventBridge notifications on, or eventBridge: 'owner' if its owner already did`,
    );
    for (const eventBridge of ['sluice', 'owner'] as const) {
      expect(() => assertBucketsKnown({ ...stage, buckets: { raw: { kind: 'imported', bucketName: 'acme-raw', eventBridge } } }, [compiled])).not.toThrow();
    }
  });

  it('fails naming the pipeline, the unknown bucket and the fix', () => {
    const compiled = compilePipeline(
      pipeline({
        name: 'orders',
        triggers: [s3Arrival({ bucket: 'landing' })],
        tasks: { load: task({ handler: './load.ts', buckets: { write: ['warehouse'] } }) },
      }),
    );
    expect(() => assertBucketsKnown(dev, [compiled])).toThrow(
      [
        'Unknown bucket(s):',
        '  - pipeline "orders", s3Arrival trigger: bucket "landing" is not configured in stage "dev" (it has: raw). Fix: use one of those logical names, or add "landing" to the buckets of stage "dev" in sluice.config.ts',
        '  - pipeline "orders", task "load": bucket "warehouse" is not configured in stage "dev" (it has: raw). Fix: use one of those logical names, or add "warehouse" to the buckets of stage "dev" in sluice.config.ts',
      ].join('\n'),
    );
  });
});
