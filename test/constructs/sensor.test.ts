import { Template } from 'aws-cdk-lib/assertions';
import aslValidator from 'asl-validator';
import { describe, expect, it } from 'vitest';
import { compilePipeline, pipeline, sensor, task } from '../../lib';
import { PipelineStateMachine } from '../../lib/constructs';
import { FIXTURES_DIR, allStates, definitions, testStack } from './helpers';

describe('a sensor in the state machine', () => {
  // Given a sensor checked every 60 s for up to 10 minutes, then a task after it
  const compiled = compilePipeline(
    pipeline({
      name: 'landing',
      retry: { attempts: 2, intervalSeconds: 5 },
      tasks: {
        ready: sensor({ handler: './handler.ts', intervalSeconds: 60, timeoutSeconds: 600 }),
        load: task({ handler: './handler.ts', after: ['ready'] }),
      },
    }),
  );
  const handler = `${FIXTURES_DIR}/fanout/handler.ts`;
  const { stack, table } = testStack();
  new PipelineStateMachine(stack, 'Run', { pipeline: compiled, handlers: { ready: handler, load: handler }, table });
  const template = Template.fromStack(stack);
  const [asl] = definitions(template);
  const states = allStates(asl!);

  it('checks, waits the interval in a Wait state and checks again, until the handler returns true', () => {
    expect(states['ready: first check']).toMatchObject({ Type: 'Pass', Result: { n: 1 }, ResultPath: '$.check', Next: 'ready' });
    expect(states.ready).toMatchObject({ Type: 'Task', Next: 'ready: holds?' });
    expect((states.ready!.Parameters as { Payload: Record<string, unknown> }).Payload['check.$']).toBe('$.check.n');
    expect(states['ready: holds?']).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.results.ready.value', BooleanEquals: true, Next: 'ready: holds' },
        { Not: { Variable: '$.results.ready.value', IsBoolean: true }, Next: 'ready: not a boolean' },
        { Variable: '$.check.n', NumericGreaterThanEquals: 11, Next: 'ready: timed out' },
      ],
      Default: 'ready: wait',
    });
    expect(states['ready: wait']).toStrictEqual({ Type: 'Wait', Comment: 'Waits 60 s before the next check', Seconds: 60, Next: 'ready: count' });
    expect(states['ready: count']).toMatchObject({ Type: 'Pass', Parameters: { 'n.$': 'States.MathAdd($.check.n, 1)' }, Next: 'ready' });
  });

  it('fails with SensorTimeoutError after its last check, which its retry policy retries, and then runs its dependants', () => {
    expect(states['ready: timed out']).toStrictEqual({
      Type: 'Fail',
      Error: 'SensorTimeoutError',
      Cause: 'Sensor "ready": the condition did not hold within 600 s (11 checks, every 60 s)',
    });
    // Its result is recorded for reruns, then its dependant's states follow.
    expect(states['ready: sensor']).toMatchObject({
      Type: 'Parallel',
      Next: 'Record ready',
      Retry: [{ ErrorEquals: ['SensorTimeoutError'], MaxAttempts: 1, IntervalSeconds: 5 }],
    });
    expect(states['Record ready']).toMatchObject({ Next: 'Reuse load?' });
    expect(states['Reuse load?']).toMatchObject({ Type: 'Choice', Default: 'load' });
  });

  it('emits valid ASL', () => {
    expect(aslValidator(asl).isValid).toBe(true);
  });
});
