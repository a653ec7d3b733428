import { describe, expect, it } from 'vitest';
import { compilePipeline, daily, pipeline, PipelineValidationError, s3Arrival, sensor, staticPartitions, task } from '../../lib';
import type { PipelineProps } from '../../lib';

const base: PipelineProps = {
  name: 'orders',
  tasks: {
    extract: task({ handler: './extract.ts' }),
    load: task({ handler: './load.ts', after: ['extract'] }),
  },
};

/** Compiles and returns the validation error's message; fails the test if it compiles. */
function errorOf(props: Partial<PipelineProps>): PipelineValidationError {
  try {
    compilePipeline(pipeline({ ...base, ...props }));
  } catch (error) {
    if (error instanceof PipelineValidationError) return error;
    throw error;
  }
  throw new Error('expected the pipeline to be invalid');
}

describe('validatePipeline', () => {
  it('compiles a valid pipeline', () => {
    const compiled = compilePipeline(pipeline(base));
    expect(compiled.tasks.map((t) => t.name)).toStrictEqual(['extract', 'load']);
  });

  it('fails on a sensor whose timeout is shorter than its interval, or whose interval is not whole seconds', () => {
    const error = errorOf({
      tasks: {
        early: sensor({ handler: './early.ts', intervalSeconds: 60, timeoutSeconds: 30 }),
        jittery: sensor({ handler: './jittery.ts', intervalSeconds: 0.5, timeoutSeconds: 30 }),
      },
    });
    expect(error.issues.map((i) => `${i.task}: ${i.message}`)).toStrictEqual([
      'early: invalid sensor timeoutSeconds 30',
      'jittery: invalid sensor intervalSeconds 0.5',
    ]);
    expect(error.issues[0]!.fix).toBe('use a whole number of seconds from intervalSeconds (60) to 31536000 (a year, Step Functions\' limit of a run)');
  });

  it('compiles a sensor with its schedule and a one-minute check timeout', () => {
    const compiled = compilePipeline(pipeline({ ...base, tasks: { ready: sensor({ handler: './ready.ts', intervalSeconds: 60, timeoutSeconds: 3600 }) } }));
    expect(compiled.tasks[0]).toMatchObject({ name: 'ready', timeoutSeconds: 60, sensor: { intervalSeconds: 60, timeoutSeconds: 3600 } });
  });

  it('fails on a dependency cycle, naming the cycle', () => {
    const error = errorOf({
      tasks: {
        a: task({ handler: './a.ts', after: ['c'] }),
        b: task({ handler: './b.ts', after: ['a'] }),
        c: task({ handler: './c.ts', after: ['b'] }),
      },
    });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toMatch(/pipeline "orders", task "\w": dependency cycle: (a → b → c → a|b → c → a → b|c → a → b → c)/);
  });

  it('fails on a task that depends on itself', () => {
    const error = errorOf({ tasks: { a: task({ handler: './a.ts', after: ['a'] }) } });
    expect(error.message).toContain('pipeline "orders", task "a": the task depends on itself');
  });

  it('fails on an unknown dependency, suggesting the closest name', () => {
    const error = errorOf({
      tasks: { extract: task({ handler: './e.ts' }), load: task({ handler: './l.ts', after: ['extrct'] }) },
    });
    expect(error.message).toContain('pipeline "orders", task "load": depends on unknown task "extrct". Fix: did you mean "extract"?');
  });

  it('fails on duplicate task names that differ only in case', () => {
    const error = errorOf({ tasks: { Load: task({ handler: './a.ts' }), load: task({ handler: './b.ts' }) } });
    expect(error.message).toContain('task "load": duplicate task name: "load" and "Load" differ only in case');
  });

  it('fails on invalid pipeline names', () => {
    for (const name of ['Orders', 'orders_daily', '9orders', 'orders-', 'x'.repeat(41)]) {
      expect(errorOf({ name }).message).toContain(`invalid pipeline name ${JSON.stringify(name)}`);
    }
  });

  it('fails on invalid task names', () => {
    const error = errorOf({ tasks: { 'load data': task({ handler: './a.ts' }), ['t'.repeat(41)]: task({ handler: './b.ts' }) } });
    expect(error.issues.map((i) => i.message)).toStrictEqual([
      'invalid task name "load data"',
      `invalid task name "${'t'.repeat(41)}"`,
    ]);
  });

  it('fails on an invalid cron expression', () => {
    const error = errorOf({ schedule: { cron: '0 2 * *', timezone: 'UTC' } });
    expect(error.message).toContain('pipeline "orders": schedule: ');
    expect(error.message).toContain('0 2 * *');
  });

  it('fails on a backfill.partitionsPerRun that is not a whole number from 1 to 1000', () => {
    for (const partitionsPerRun of [0, 2.5, 1001]) {
      expect(errorOf({ backfill: { partitionsPerRun } }).issues.map((i) => i.message)).toStrictEqual([
        `invalid backfill.partitionsPerRun ${partitionsPerRun}`,
      ]);
    }
    expect(compilePipeline(pipeline({ ...base, backfill: { partitionsPerRun: 24 } })).partitionsPerRun).toBe(24);
    expect(compilePipeline(pipeline(base)).partitionsPerRun).toBe(1);
  });

  it('fails on an unknown time zone', () => {
    const error = errorOf({ schedule: { cron: '0 2 * * *', timezone: 'Mars/Olympus_Mons' } });
    expect(error.message).toContain('Mars/Olympus_Mons');
  });

  it('fails on a partitionFromKey without the named group', () => {
    const error = errorOf({
      partitions: daily({ start: '2024-01-01' }),
      triggers: [s3Arrival({ bucket: 'raw', partitionFromKey: /^sales\/(\d{4}-\d{2}-\d{2})\// })],
    });
    expect(error.message).toContain('trigger 1 (s3Arrival): partitionFromKey /^sales\\/(\\d{4}-\\d{2}-\\d{2})\\// has no named group "partition"');
  });

  it('fails on an S3 trigger of a statically partitioned pipeline without partitionFromKey', () => {
    const error = errorOf({
      partitions: staticPartitions(['eu', 'us']),
      triggers: [s3Arrival({ bucket: 'raw', prefix: 'inventory/' })],
    });
    expect(error.message).toContain('trigger 1 (s3Arrival): the pipeline has static partitions but the trigger has no partitionFromKey');
  });

  it('fails on a partition start after its end', () => {
    const error = errorOf({ partitions: daily({ start: '2024-02-01', end: '2024-01-01' }) });
    expect(error.message).toContain('pipeline "orders": partitions: ');
    expect(error.message).toMatch(/2024-02-01.*2024-01-01|2024-01-01.*2024-02-01/);
  });

  it('fails on out-of-range timeout, memory and retry values', () => {
    const error = errorOf({
      retry: { backoffRate: 0.5 },
      tasks: { a: task({ handler: './a.ts', timeoutSeconds: 901, memoryMb: 64, retry: { attempts: 0, intervalSeconds: 1.5 } }) },
    });
    expect(error.issues.map((i) => `${i.task ?? '-'}: ${i.message}`)).toStrictEqual([
      'a: invalid timeoutSeconds 901',
      'a: invalid memoryMb 64',
      'a: retry: invalid attempts 0',
      'a: retry: invalid intervalSeconds 1.5',
      '-: pipeline retry: invalid backoffRate 0.5',
    ]);
  });

  it('reports every problem of a pipeline at once', () => {
    const error = errorOf({
      name: 'Bad_Name',
      schedule: { cron: 'every day', timezone: 'UTC' },
      tasks: { a: task({ handler: './a.ts', after: ['missing'] }), b: task({ handler: './b.ts', after: ['b'] }) },
    });
    expect(error.issues.length).toBeGreaterThanOrEqual(4);
    expect(error.message).toMatch(/^Invalid pipeline definition \(\d+ problems\):/);
  });

  it('fails on a pipeline without tasks', () => {
    expect(errorOf({ tasks: {} }).message).toContain('pipeline "orders": the pipeline has no tasks');
  });
});

describe('compilePipeline', () => {
  it('applies defaults and merges retry policies field by field', () => {
    const compiled = compilePipeline(
      pipeline({
        ...base,
        retry: { attempts: 4, intervalSeconds: 2 },
        tasks: { a: task({ handler: './a.ts', retry: { attempts: 6, jitter: true } }) },
      }),
    );
    expect(compiled.tasks[0]).toMatchObject({ timeoutSeconds: 300, memoryMb: 512 });
    expect(compiled.tasks[0].retry).toStrictEqual({
      attempts: 6,
      intervalSeconds: 2,
      backoffRate: 2,
      jitter: true,
      nonRetryableErrors: [],
    });
    expect(compiled.maxConcurrentRuns).toBe(10);
  });

  it('orders tasks topologically, whatever the declaration order', () => {
    const compiled = compilePipeline(
      pipeline({
        ...base,
        tasks: {
          load: task({ handler: './l.ts', after: ['transform'] }),
          transform: task({ handler: './t.ts', after: ['extract'] }),
          extract: task({ handler: './e.ts' }),
        },
      }),
    );
    expect(compiled.tasks.map((t) => t.name)).toStrictEqual(['extract', 'transform', 'load']);
  });
});
