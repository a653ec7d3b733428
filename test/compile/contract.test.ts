import { describe, expect, it } from 'vitest';
import { runIdOf, pipelineOfRunId, runNumberOfInput } from '../../lib/compile/contract';

const NAME_RULE = /^[A-Za-z0-9_-]{1,80}$/;

describe('runIdOf', () => {
  it('keeps pipeline, partition and run readable when the key is name-safe', () => {
    expect(runIdOf('daily-sales', '2024-01-01', 1)).toBe('daily-sales_2024-01-01_r1');
    expect(runIdOf('hourly-ingest', '2024-11-03T01b', 12)).toBe('hourly-ingest_2024-11-03T01b_r12');
    expect(runIdOf('regions', 'eu_west-1', 3)).toBe('regions_eu_west-1_r3');
  });

  it.each([
    ['a multi-dimensional key', '2024-01-01|eu'],
    ['a key with dots', 'eu.west.1'],
    ['a unicode key', 'zürich|東京'],
    ['a long static key', 'k'.repeat(500)],
    ['a key with spaces and slashes', 'a b/c'],
    ['an empty key', ''],
  ])('is a valid execution name for %s', (_, key) => {
    // Given the longest pipeline name (40 characters) and a large run number
    const pipeline = 'p'.repeat(40);

    // When / Then
    expect(runIdOf(pipeline, key, 1)).toMatch(NAME_RULE);
    expect(runIdOf(pipeline, key, 123456)).toMatch(NAME_RULE);
  });

  it('keeps the readable part of a replaced key and marks it with a digest', () => {
    expect(runIdOf('regional-report', '2024-01-01|eu', 1)).toMatch(/^regional-report_2024-01-01_eu_[0-9a-z]{10}_r1$/);
  });

  it('tells apart keys that differ only in replaced or cut characters, and attempts and pipelines', () => {
    // Given keys that read the same once replaced or cut
    const keys = ['2024-01-01|eu', '2024-01-01.eu', '2024-01-01_eu', 'é|x', 'è|x', `${'k'.repeat(60)}a`, `${'k'.repeat(60)}b`];

    // When
    const names = [
      ...keys.flatMap((key) => [1, 2, 11].map((run) => runIdOf('orders', key, run))),
      ...keys.map((key) => runIdOf('orders-eu', key, 1)),
    ];

    // Then
    expect(new Set(names).size).toBe(names.length);
  });

  it("names two pipelines' runs of the same partition apart", () => {
    expect(runIdOf('only', '2024-01-01', 1)).not.toBe(runIdOf('other', '2024-01-01', 1));
  });
});

describe('pipelineOfRunId', () => {
  it('names the pipeline of a run id, whatever the partition key holds', () => {
    for (const partition of ['2024-01-01', '2024-01-01|eu_west', 'a:b c', 'k'.repeat(200)]) {
      expect(pipelineOfRunId(runIdOf('daily-sales', partition, 3))).toBe('daily-sales');
    }
    expect(pipelineOfRunId('no-pipeline-here')).toBeUndefined();
  });
});

describe('runNumberOfInput', () => {
  it("reads an execution's run number, the legacy attempt of a run started before runNumber, and nothing from other input", () => {
    const run = { pipeline: 'daily-sales', partition: '2024-01-01', runId: 'daily-sales_2024-01-01_r3', trigger: 's3' };
    expect(runNumberOfInput({ ...run, runNumber: 3 })).toBe(3);
    expect(runNumberOfInput({ ...run, attempt: 3 })).toBe(3);
    expect(runNumberOfInput({ ...run })).toBeUndefined();
    expect(runNumberOfInput(null)).toBeUndefined();
    expect(runNumberOfInput({ ...run, runNumber: '3' })).toBeUndefined();
  });
});
