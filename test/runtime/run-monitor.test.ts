import type { PublishCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunInput } from '../../lib/compile/contract';
import { PartitionStore } from '../../runtime/partition-store';
import { type ExecutionStatusChangeEvent, formatAlert, handleStatusChange, type PublishClient } from '../../runtime/run-monitor';
import { type LocalPartitionTable, startPartitionTable } from './local-dynamodb';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:daily-sales:2024-01-01-1x2y3z-a1';

function statusChange(status: string, run: RunInput | undefined, overrides: Record<string, unknown> = {}): ExecutionStatusChangeEvent {
  return {
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    time: '2024-01-02T07:05:00Z',
    detail: {
      executionArn: ARN,
      stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:daily-sales',
      name: run?.runId ?? 'console-run',
      status,
      input: run ? JSON.stringify(run) : '{}',
      error: null,
      cause: null,
      startDate: Date.parse('2024-01-02T07:00:00Z'),
      stopDate: Date.parse('2024-01-02T07:05:00Z'),
      ...overrides,
    },
  };
}

const RUN: RunInput = { pipeline: 'daily-sales', partition: '2024-01-01', runId: '2024-01-01-1x2y3z-a1', attempt: 1, trigger: 'schedule' };

describe('formatAlert', () => {
  it('renders pipeline, partition, run, error, readable cause and console link', () => {
    // Given
    const cause = JSON.stringify({ errorType: 'TypeError', errorMessage: 'row.amount is undefined', trace: ['at x'] });
    const event = statusChange('FAILED', RUN, { error: 'TypeError', cause });

    // When
    const alert = formatAlert(event, 'eu-west-1');

    // Then
    expect(alert.subject).toBe('sluice: FAILED daily-sales partition 2024-01-01');
    expect(alert.message).toBe(
      [
        'A run failed: daily-sales partition 2024-01-01.',
        '',
        'Pipeline:  daily-sales',
        'Partition: 2024-01-01',
        'Run id:    2024-01-01-1x2y3z-a1',
        'Attempt:   1',
        'Trigger:   schedule',
        'Status:    FAILED',
        'Started:   2024-01-02T07:00:00.000Z',
        'Stopped:   2024-01-02T07:05:00.000Z',
        'Error:     TypeError',
        'Cause:     TypeError: row.amount is undefined',
        '',
        `Execution: https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/${ARN}`,
      ].join('\n'),
    );
  });

  it('keeps the subject within SNS limits and truncates a long cause', () => {
    // Given
    const run = { ...RUN, partition: `${'é'.repeat(90)}|eu` };
    const event = statusChange('TIMED_OUT', run, { cause: 'x'.repeat(5000) });

    // When
    const alert = formatAlert(event, 'eu-west-1');

    // Then
    expect(alert.subject).toHaveLength(100);
    expect(alert.subject).toMatch(/^[\x20-\x7e]+\.\.\.$/);
    expect(alert.message).toContain(`Cause:     ${'x'.repeat(1997)}...\n`);
    expect(alert.message).toMatch(/^A run timed out: /);
  });

  it('names the execution when it was not started by the launcher', () => {
    const alert = formatAlert(statusChange('ABORTED', undefined), 'eu-west-1');

    expect(alert.subject).toBe('sluice: ABORTED execution console-run');
    expect(alert.message).toContain('Pipeline:  (unknown: the execution was not started by the sluice launcher)');
  });
});

describe('handleStatusChange against dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;
  const published: PublishCommand['input'][] = [];
  const sns: PublishClient = {
    send: async (command) => {
      published.push(command.input);
      return { MessageId: 'm1', $metadata: {} };
    },
  };

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());

  it('marks a timed-out run FAILED and publishes its alert', async () => {
    // Given a run that skipped the state machine's Catch
    const claim = await store.claim('daily-sales', '2024-01-01', { trigger: 'schedule', now: new Date('2024-01-02T07:00:00Z') });
    const run = { ...RUN, runId: claim.kind === 'claimed' ? claim.runId : '' };

    // When
    const result = await handleStatusChange(statusChange('TIMED_OUT', run), {
      store,
      sns,
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
      region: 'eu-west-1',
    });

    // Then
    expect(result).toStrictEqual({ kind: 'alerted', markedFailed: true, run });
    expect(await store.get('daily-sales', '2024-01-01')).toMatchObject({
      status: 'FAILED',
      error: 'ExecutionTimedOut',
      cause: 'The execution ended with status TIMED_OUT',
      finishedAt: '2024-01-02T07:05:00.000Z',
    });
    expect(published).toStrictEqual([
      {
        TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts',
        Subject: 'sluice: TIMED_OUT daily-sales partition 2024-01-01',
        Message: formatAlert(statusChange('TIMED_OUT', run), 'eu-west-1').message,
      },
    ]);
  });

  it('ignores a status that is not a failure', async () => {
    published.length = 0;
    const result = await handleStatusChange(statusChange('SUCCEEDED', RUN), { store, sns, topicArn: 't', region: 'eu-west-1' });

    expect(result).toStrictEqual({ kind: 'ignored', reason: 'status SUCCEEDED is not a failure' });
    expect(published).toHaveLength(0);
  });
});
