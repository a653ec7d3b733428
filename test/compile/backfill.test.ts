import { describe, expect, it } from 'vitest';
import {
  BackfillRequestError,
  backfillRange,
  chunkRuns,
  groupRuns,
  isSelected,
  MAX_CHUNK_BYTES,
  MAX_RUNS_PER_CHUNK,
  resolveBackfillRequest,
} from '../../lib/compile/backfill';
import { daily, hourly, multiPartitions, staticPartitions } from '../../lib/definitions/partitions';

const NOW = new Date('2030-01-01T00:00:00Z');

/**
 * History events per execution, counted as AWS records them (a Task: entered, scheduled, started,
 * succeeded, exited; a Map iteration: started, succeeded; Choice and Pass: entered, exited).
 */
const EVENTS = Object.freeze({ task: 5, syncTask: 6, choice: 2, iteration: 2, mapState: 4, execution: 2 });
const HISTORY_LIMIT = 25_000;
const PAYLOAD_LIMIT = 256 * 1024;

describe('backfill plan', () => {
  it('plans 10,000 daily partitions within Step Functions limits at every concurrency', () => {
    // Given
    const spec = daily({ start: '2000-01-01' });
    const request = resolveBackfillRequest({ from: '2000-01-01', to: '2027-05-18', only: 'all', concurrency: 32 });
    const range = backfillRange(spec, request, NOW);
    expect(range).toHaveLength(10_000);

    for (const concurrency of [1, 8, 32, 1000]) {
      // When
      const chunks = chunkRuns(groupRuns(range, new Set(range), 1), concurrency);

      // Then every run is planned once, in order
      expect(chunks.flat().map((r) => r.partition)).toStrictEqual(range);
      // The parent: plan, the Distributed Map (a few events per chunk locally; on AWS a Map Run), finish
      const parentEvents = EVENTS.execution + 2 * EVENTS.task + EVENTS.mapState + chunks.length * (EVENTS.iteration + EVENTS.task) + EVENTS.choice + 2;
      expect(parentEvents).toBeLessThan(HISTORY_LIMIT);
      // Its input: the chunk numbers
      expect(JSON.stringify({ backfillId: 'bf-20300101T000000Z-12345678', concurrency, chunks: chunks.map((_, i) => i) }).length).toBeLessThan(PAYLOAD_LIMIT);
      for (const chunk of chunks) {
        // Each child: load, one iteration per run (claim, choice, run, ended), record
        const childEvents = EVENTS.execution + 2 * EVENTS.task + EVENTS.mapState + chunk.length * (EVENTS.iteration + 2 * EVENTS.task + EVENTS.choice + EVENTS.syncTask);
        expect(childEvents).toBeLessThan(HISTORY_LIMIT);
        expect(chunk.length).toBeLessThanOrEqual(MAX_RUNS_PER_CHUNK);
        expect(JSON.stringify(chunk).length).toBeLessThanOrEqual(MAX_CHUNK_BYTES);
      }
    }
  });

  it('keeps every slot busy: about four chunks per concurrent run', () => {
    const range = backfillRange(daily({ start: '2020-01-01' }), resolveBackfillRequest({ from: '2020-01-01', to: '2022-09-26' }), NOW);
    expect(chunkRuns(groupRuns(range, new Set(range), 1), 8)).toHaveLength(32);
  });

  it('selects by status: missing, failed, both, or all', () => {
    expect(['MISSING', 'RUNNING', 'SUCCEEDED', 'FAILED'].filter((s) => isSelected('missing,failed', s as never))).toStrictEqual(['MISSING', 'FAILED']);
    expect(['MISSING', 'RUNNING', 'SUCCEEDED', 'FAILED'].filter((s) => isSelected('failed', s as never))).toStrictEqual(['FAILED']);
    expect(['MISSING', 'RUNNING', 'SUCCEEDED', 'FAILED'].filter((s) => isSelected('all', s as never))).toHaveLength(4);
  });

  it('groups consecutive selected partitions into runs of partitionsPerRun, a gap ending a group', () => {
    // Given 10 days of hourly partitions, one hour of day 3 already done
    const range = backfillRange(hourly({ start: '2024-01-01T00' }), resolveBackfillRequest({ from: '2024-01-01T00', to: '2024-01-10T23' }), NOW);
    const selected = new Set(range.filter((k) => k !== '2024-01-03T05'));

    // When
    const runs = groupRuns(range, selected, 24);

    // Then
    expect(range).toHaveLength(240);
    expect(runs).toHaveLength(11);
    expect(runs[2]).toStrictEqual({ partition: '2024-01-03T00', partitions: ['2024-01-03T00', '2024-01-03T01', '2024-01-03T02', '2024-01-03T03', '2024-01-03T04'] });
    expect(runs[3]!.partition).toBe('2024-01-03T06');
    expect(runs.at(-1)!.partitions).toHaveLength(18);
    expect(groupRuns(range, new Set(range), 24).map((r) => r.partitions?.length)).toStrictEqual(Array(10).fill(24));
  });

  it('selects keys of multi-partitions per dimension', () => {
    const spec = multiPartitions({ date: daily({ start: '2024-01-01' }), region: staticPartitions(['eu', 'us', 'ap']) });
    const range = backfillRange(spec, resolveBackfillRequest({ from: '2024-01-01', to: '2024-01-02', dimensions: { region: ['eu', 'ap'] } }), NOW);
    expect(range).toStrictEqual(['2024-01-01|eu', '2024-01-01|ap', '2024-01-02|eu', '2024-01-02|ap']);
  });

  it('fails a request with bad fields, naming the field and the fix', () => {
    expect(() => resolveBackfillRequest({ from: '2024-01-01', concurency: 8 })).toThrow(
      new BackfillRequestError('unknown field(s) concurency in the backfill request; use from, to, only, concurrency, dimensions, downstream'),
    );
    expect(() => resolveBackfillRequest({ only: 'broken' })).toThrow(/^only must be one of all, missing, failed, missing,failed; got "broken"$/);
    expect(() => resolveBackfillRequest({ concurrency: 0 })).toThrow(/^concurrency must be a whole number from 1 to 1000; got 0$/);
    expect(() => backfillRange(daily({ start: '2024-01-01' }), resolveBackfillRequest({ from: '2024-02-01', to: '2024-01-01' }), NOW)).toThrow(
      /^from "2024-02-01" is after to "2024-01-01"; give the earlier key as from$/,
    );
    expect(() => backfillRange(undefined, resolveBackfillRequest({ from: '2024-02-01' }), NOW)).toThrow(/unpartitioned: omit from and to/);
  });
});
