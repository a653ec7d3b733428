import { afterEach, describe, expect, it, vi } from 'vitest';
import { invocationLine, withInvocationLog } from '../../orchestration/task-invocation';

/** What the wrapped handler wrote to stdout and stderr while `fn` ran, line by line. */
async function printed(fn: () => Promise<unknown>): Promise<string[]> {
  const lines: string[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
  await fn().catch(() => undefined);
  vi.restoreAllMocks();
  return lines;
}

const event = { pipeline: 'steps', partition: '2024-03-01', runId: 'steps_2024-03-01_r1', task: 'load', retryCount: 1, results: {} };
const context = { awsRequestId: 'c0ffee00-0000-4000-8000-000000000001' };

describe('withInvocationLog (the wrapper of every task function)', () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a start and an end line naming the invocation's run, task, attempt and request id around the handler", async () => {
    // Given a handler wrapped as a task function's generated entry wraps it
    const handler = withInvocationLog(async (e: typeof event) => ({ rows: e.retryCount }));

    // When it is invoked for the first retry of a task
    let result: unknown;
    const lines = await printed(async () => (result = await handler(event, context)));

    // Then it returns the handler's result, between the two lines, whose keys name the attempt
    expect(result).toStrictEqual({ rows: 1 });
    const keys = { pipeline: 'steps', partition: '2024-03-01', runId: 'steps_2024-03-01_r1', task: 'load', attempt: 2, requestId: context.awsRequestId };
    expect(lines.map((l) => JSON.parse(l))).toMatchObject([
      { level: 'INFO', message: 'task attempt started', sluice: 'start', ...keys },
      { level: 'INFO', message: 'task attempt succeeded', sluice: 'end', ...keys, durationMs: expect.any(Number) },
    ]);
    expect(lines.map((l) => invocationLine(l))).toMatchObject([{ sluice: 'start', ...keys }, { sluice: 'end', ...keys }]);
  });

  it('logs a failed attempt with its error and throws the error on', async () => {
    const handler = withInvocationLog(async () => {
      throw Object.assign(new Error('source down'), { name: 'SourceDownError' });
    });
    let thrown: unknown;
    const lines = await printed(() => handler(event, context).catch((error: unknown) => (thrown = error)));
    expect((thrown as Error).name).toBe('SourceDownError');
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ level: 'ERROR', message: 'task attempt failed', sluice: 'end', attempt: 2, error: { name: 'SourceDownError', message: 'source down' } });
  });

  it('only runs the handler for an event that is not a sluice task event', async () => {
    const handler = withInvocationLog(async (e: { ping: number }) => e.ping);
    let result: unknown;
    const lines = await printed(async () => (result = await handler({ ping: 7 }, context)));
    expect(result).toBe(7);
    expect(lines).toStrictEqual([]);
  });

  it("reads no other line as one of the wrapper's", () => {
    expect(invocationLine('{"message":"step load","sluice":"maybe"}')).toBeUndefined();
    expect(invocationLine('plain text')).toBeUndefined();
    expect(invocationLine('{"sluice":"start","runId":"r"}')).toBeUndefined();
  });
});
