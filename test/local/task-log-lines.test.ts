import { describe, expect, it } from 'vitest';
import { cloudWatchMessage, requestIdOf, taskLogEntryOf } from '../../local/task-log-lines';
import type { TaskLogEntry } from '../../local/task-logs';

const invocation = { pipeline: 'steps', partition: '2024-03-01', runId: 'steps_2024-03-01_r1', task: 'load', attempt: 2, requestId: 'req-1' };
const at = Date.parse('2024-03-01T06:00:05.123Z');
const entry = (stream: 'stdout' | 'stderr', message: string): TaskLogEntry => ({ ...invocation, time: new Date(at).toISOString(), stream, message });

describe("a task attempt's lines in CloudWatch Logs (Lambda's JSON log format), and back", () => {
  it('renders a console line as Lambda does, with its request id, and reads it back as it was printed', () => {
    for (const printed of [entry('stdout', 'loaded 3 rows'), entry('stdout', '{"message":"step load","rows":3}'), entry('stderr', 'ERROR Invoke Error {"errorType":"E"}')]) {
      const message = cloudWatchMessage(printed);
      expect(JSON.parse(message)).toStrictEqual({
        timestamp: printed.time,
        level: printed.stream === 'stderr' ? 'ERROR' : 'INFO',
        requestId: 'req-1',
        message: printed.message,
      });
      expect(requestIdOf(message)).toBe('req-1');
      expect(taskLogEntryOf(message, at, invocation)).toStrictEqual(printed);
    }
  });

  it("keeps a structured logger's line as it is, and finds its request id when it has the Lambda context", () => {
    const line = '{"level":"WARN","message":"slow source","timestamp":"2024-03-01T06:00:05.123Z","service":"load","function_request_id":"req-1"}';
    expect(cloudWatchMessage(entry('stderr', line))).toBe(line);
    expect(requestIdOf(line)).toBe('req-1');
    expect(taskLogEntryOf(line, at, invocation)).toStrictEqual(entry('stderr', line));
    expect(requestIdOf('{"level":"INFO","message":"no context","timestamp":"t"}')).toBeUndefined();
  });

  it("shows the error type and message of the error line Lambda writes when a handler throws", () => {
    const line = JSON.stringify({ timestamp: 't', level: 'ERROR', requestId: 'req-1', message: 'Invoke Error', errorType: 'StepBrokenError', errorMessage: 'broken', stackTrace: [] });
    expect(taskLogEntryOf(line, at, invocation)).toMatchObject({ stream: 'stderr', message: 'Invoke Error {"errorType":"StepBrokenError","errorMessage":"broken"}' });
  });
});
