import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runIdOf } from '../../lib/compile/contract';
import { PartitionStore } from '../../orchestration/partition-store';
import { type LocalPartitionTable, startPartitionTable } from '../fixtures/dynalite';

const NOW = new Date('2024-01-02T07:00:00Z');

describe('PartitionStore against dynalite', () => {
  let table: LocalPartitionTable;
  let store: PartitionStore;

  beforeAll(async () => {
    table = await startPartitionTable();
    store = new PartitionStore(table.client, table.tableName);
  });
  afterAll(() => table.close());

  const recordSucceeded = (pipeline: string, partition: string) => table.recordSucceeded(pipeline, partition);

  it('returns undefined for a partition never run', async () => {
    expect(await store.get('sales', '1999-01-01')).toBeUndefined();
  });

  it('claims a new partition as run 1, RUNNING', async () => {
    // When
    const claim = await store.claim('sales', '2024-01-01', { trigger: 'schedule', now: NOW });

    // Then
    expect(claim).toStrictEqual({ kind: 'claimed', runNumber: 1, runId: runIdOf('sales', '2024-01-01', 1) });
    expect(await store.get('sales', '2024-01-01')).toStrictEqual({
      pipeline: 'sales',
      partition: '2024-01-01',
      status: 'RUNNING',
      runNumber: 1,
      runId: runIdOf('sales', '2024-01-01', 1),
      trigger: 'schedule',
      claimedAt: NOW.toISOString(),
    });
  });

  it('refuses to claim a RUNNING partition and names the running run', async () => {
    // Given
    const first = await store.claim('sales', '2024-01-03', { trigger: 's3', now: NOW });

    // When
    const second = await store.claim('sales', '2024-01-03', { trigger: 'manual', now: NOW });

    // Then
    expect(second).toStrictEqual({ kind: 'busy', runId: first.runId });
    expect((await store.get('sales', '2024-01-03'))?.trigger).toBe('s3');
  });

  it('lets exactly one of many concurrent claims win', async () => {
    // When
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => store.claim('sales', '2024-01-04', { trigger: 's3', now: NOW })),
    );

    // Then
    expect(claims.filter((c) => c.kind === 'claimed')).toHaveLength(1);
    expect(claims.filter((c) => c.kind === 'busy')).toHaveLength(7);
    expect((await store.get('sales', '2024-01-04'))?.runNumber).toBe(1);
  });

  it('requests a rerun of the RUNNING run only, and only while it runs', async () => {
    // Given
    const claim = await store.claim('sales', '2024-01-10', { trigger: 's3', now: NOW });
    if (claim.kind !== 'claimed') throw new Error('expected the claim of 2024-01-10 to win');

    // When
    const otherRun = await store.requestRerun('sales', '2024-01-10', 'someone-else-a1');
    const flaggedAfterOther = (await store.get('sales', '2024-01-10'))?.rerunRequested;
    const thisRun = await store.requestRerun('sales', '2024-01-10', claim.runId);
    const twice = await store.requestRerun('sales', '2024-01-10', claim.runId);
    const flagged = await store.get('sales', '2024-01-10');
    await recordSucceeded('sales', '2024-01-10');
    const afterEnd = await store.requestRerun('sales', '2024-01-10', claim.runId);
    const never = await store.requestRerun('sales', '1999-01-01', runIdOf('sales', '1999-01-01', 1));

    // Then
    expect([otherRun, thisRun, twice, afterEnd, never]).toStrictEqual([false, true, true, false, false]);
    expect(flaggedAfterOther).toBeUndefined();
    expect(flagged).toMatchObject({ status: 'RUNNING', runId: claim.runId, rerunRequested: true });
    expect(await store.get('sales', '1999-01-01')).toBeUndefined();
  });

  it('clears a requested rerun when it claims the next run', async () => {
    // Given a run flagged for a rerun, which then succeeds
    const first = await store.claim('sales', '2024-01-11', { trigger: 's3', now: NOW });
    await store.requestRerun('sales', '2024-01-11', first.runId);
    await recordSucceeded('sales', '2024-01-11');
    expect((await store.get('sales', '2024-01-11'))?.rerunRequested).toBe(true);

    // When
    const second = await store.claim('sales', '2024-01-11', { trigger: 's3', now: NOW });

    // Then
    expect(second).toStrictEqual({ kind: 'claimed', runNumber: 2, runId: runIdOf('sales', '2024-01-11', 2) });
    expect(await store.get('sales', '2024-01-11')).not.toHaveProperty('rerunRequested');
  });

  it('lists the partitions with a rerun requested from their sparse index, until a claim clears the request', async () => {
    // Given one flagged run of pipeline "returns" and one unflagged, and a flagged run of another pipeline
    const flagged = await store.claim('returns', '2024-01-12', { trigger: 's3', now: NOW });
    await store.claim('returns', '2024-01-13', { trigger: 's3', now: NOW });
    await store.requestRerun('returns', '2024-01-12', flagged.runId);
    const other = await store.claim('refunds', '2024-01-12', { trigger: 's3', now: NOW });
    await store.requestRerun('refunds', '2024-01-12', other.runId);
    await recordSucceeded('returns', '2024-01-12');

    // When they are listed, Then only the flagged partition of that pipeline is
    expect((await store.listRerunRequested('returns')).map((r) => r.partition)).toStrictEqual(['2024-01-12']);

    // And once its rerun claims the partition, it leaves the index
    await store.claim('returns', '2024-01-12', { trigger: 's3', now: NOW });
    expect(await store.listRerunRequested('returns')).toStrictEqual([]);
  });

  it('marks a run FAILED only while it is the RUNNING run', async () => {
    // Given
    const claim = await store.claim('sales', '2024-01-05', { trigger: 's3', now: NOW });

    // When
    const wrongRun = await store.markFailed('sales', '2024-01-05', 'someone-else-a1', { error: 'X' });
    const rightRun = await store.markFailed('sales', '2024-01-05', claim.runId, { error: 'States.Timeout', cause: 'too slow', now: NOW });
    const again = await store.markFailed('sales', '2024-01-05', claim.runId, { error: 'Other' });

    // Then
    expect([wrongRun, rightRun, again]).toStrictEqual([false, true, false]);
    expect(await store.get('sales', '2024-01-05')).toMatchObject({
      status: 'FAILED',
      error: 'States.Timeout',
      cause: 'too slow',
      finishedAt: NOW.toISOString(),
    });
  });

  it('does not overwrite an outcome the state machine recorded first', async () => {
    // Given
    const claim = await store.claim('sales', '2024-01-06', { trigger: 's3', now: NOW });
    await recordSucceeded('sales', '2024-01-06');

    // When
    const marked = await store.markFailed('sales', '2024-01-06', claim.runId, { error: 'ExecutionAborted' });

    // Then
    expect(marked).toBe(false);
    expect((await store.get('sales', '2024-01-06'))?.status).toBe('SUCCEEDED');
  });

  it('claims from a read the caller made, and reads again when that read is stale', async () => {
    // Given a read of a finished partition, after which another trigger ran it again
    const first = await store.claim('sales', '2024-01-08', { trigger: 's3', now: NOW });
    await store.markFailed('sales', '2024-01-08', first.runId, { error: 'Boom', cause: 'bad row' });
    const read = { current: await store.get('sales', '2024-01-08') };
    const second = await store.claim('sales', '2024-01-08', { trigger: 'schedule', now: NOW });
    await store.markFailed('sales', '2024-01-08', second.runId, { error: 'Boom', cause: 'bad row' });

    // When a claim is made from the stale read
    const third = await store.claim('sales', '2024-01-08', { trigger: 'backfill', now: NOW, read });
    // ...and from a fresh one, of a partition another run now holds
    const busy = await store.claim('sales', '2024-01-08', { trigger: 'backfill', now: NOW, read: { current: await store.get('sales', '2024-01-08') } });

    // Then the stale read cost a read again, not the run: it is the partition's third
    expect(third).toStrictEqual({ kind: 'claimed', runNumber: 3, runId: runIdOf('sales', '2024-01-08', 3) });
    expect(busy).toStrictEqual({ kind: 'busy', runId: runIdOf('sales', '2024-01-08', 3) });
  });

  it('claims a finished partition again under the next run, clearing the last error', async () => {
    // Given
    const first = await store.claim('sales', '2024-01-07', { trigger: 's3', now: NOW });
    await store.markFailed('sales', '2024-01-07', first.runId, { error: 'Boom', cause: 'bad row' });

    // When
    const second = await store.claim('sales', '2024-01-07', { trigger: 'manual', now: NOW });

    // Then
    expect(second).toStrictEqual({ kind: 'claimed', runNumber: 2, runId: runIdOf('sales', '2024-01-07', 2) });
    const record = await store.get('sales', '2024-01-07');
    expect(record).toMatchObject({ status: 'RUNNING', runNumber: 2, trigger: 'manual' });
    expect(record).not.toHaveProperty('error');
    expect(record).not.toHaveProperty('cause');
  });

  it('counts the RUNNING partitions of one pipeline as runs are claimed and end', async () => {
    // Given
    const counts: number[] = [await store.countRunning('busy')];
    const a = await store.claim('busy', '2024-04-01', { trigger: 'schedule', now: NOW });
    counts.push(await store.countRunning('busy'));
    const b = await store.claim('busy', '2024-04-02', { trigger: 'schedule', now: NOW });
    await store.claim('busy', '2024-04-02', { trigger: 's3', now: NOW });
    await store.claim('idle', '2024-04-01', { trigger: 'schedule', now: NOW });
    counts.push(await store.countRunning('busy'));

    // When the state machine records one success and the run monitor one failure
    await recordSucceeded('busy', '2024-04-01');
    counts.push(await store.countRunning('busy'));
    if (b.kind !== 'claimed') throw new Error('expected the claim of 2024-04-02 to win');
    await store.markFailed('busy', '2024-04-02', b.runId, { error: 'ExecutionAborted' });
    counts.push(await store.countRunning('busy'));

    // Then
    expect(a.kind).toBe('claimed');
    expect(counts).toStrictEqual([0, 1, 2, 1, 0]);
    expect(await store.countRunning('idle')).toBe(1);
  });

  it('lists the RUNNING partitions of one pipeline, and only those', async () => {
    // Given two running partitions, one ended and one of another pipeline
    await store.claim('listed', '2024-05-01', { trigger: 'manual', now: NOW });
    await store.claim('listed', '2024-05-02', { trigger: 'manual', now: NOW });
    await store.claim('listed', '2024-05-03', { trigger: 'manual', now: NOW });
    await recordSucceeded('listed', '2024-05-02');
    await store.claim('unlisted', '2024-05-01', { trigger: 'manual', now: NOW });

    // When
    const running = await store.listRunning('listed');

    // Then
    expect(running.map((r) => [r.partition, r.status])).toStrictEqual([
      ['2024-05-01', 'RUNNING'],
      ['2024-05-03', 'RUNNING'],
    ]);
  });

  it('counts a backfill batch as one run, and lists every partition of it RUNNING until each is marked', async () => {
    // Given a run claimed with two more partitions of its batch
    const run = await store.claim('batches', '2024-06-01', { trigger: 'backfill', now: NOW });
    if (run.kind !== 'claimed') throw new Error('expected the claim of 2024-06-01 to win');
    for (const day of ['2024-06-02', '2024-06-03']) {
      expect(await store.claim('batches', day, { trigger: 'backfill', now: NOW, runId: run.runId })).toMatchObject({ kind: 'claimed', runId: run.runId });
    }

    // Then
    expect(await store.countRunning('batches')).toBe(1);
    expect((await store.listRunning('batches')).map((r) => [r.partition, r.runId])).toStrictEqual([
      ['2024-06-01', run.runId],
      ['2024-06-02', run.runId],
      ['2024-06-03', run.runId],
    ]);

    // When one partition of the batch is marked
    await store.markSucceeded('batches', '2024-06-02', run.runId);

    // Then it leaves the list
    expect((await store.listRunning('batches')).map((r) => r.partition)).toStrictEqual(['2024-06-01', '2024-06-03']);
  });

  it('lists the partitions of one pipeline within a range, in key order', async () => {
    // Given
    for (const p of ['2024-02-03', '2024-02-01', '2024-02-02', '2024-02-04']) {
      await store.claim('orders', p, { trigger: 'backfill', now: NOW });
    }
    await store.claim('other', '2024-02-02', { trigger: 'backfill', now: NOW });

    // When
    const between = await store.list('orders', { from: '2024-02-02', to: '2024-02-03' });
    const from = await store.list('orders', { from: '2024-02-03' });
    const to = await store.list('orders', { to: '2024-02-01' });
    const all = await store.list('orders');

    // Then
    expect(between.map((r) => r.partition)).toStrictEqual(['2024-02-02', '2024-02-03']);
    expect(from.map((r) => r.partition)).toStrictEqual(['2024-02-03', '2024-02-04']);
    expect(to.map((r) => r.partition)).toStrictEqual(['2024-02-01']);
    expect(all.map((r) => r.partition)).toStrictEqual(['2024-02-01', '2024-02-02', '2024-02-03', '2024-02-04']);
    expect(all.every((r) => r.pipeline === 'orders')).toBe(true);
  });

  describe('items written before runNumber (run counter in attempt)', () => {
    it('reads the legacy attempt as the run number, and its consumed entries\' too', async () => {
      // Given
      await table.putPreviousVersionItem('legacy', '2023-12-01', {
        status: 'SUCCEEDED',
        attempt: 3,
        consumed: [{ source: 'schedule', label: 'schedule', version: '2023-12-02T00:00:00.000Z', order: '18c27f2a000', attempt: 3, at: '2023-12-02T00:00:05.000Z' }],
      });

      // When
      const record = await store.get('legacy', '2023-12-01');

      // Then
      expect(record).toMatchObject({ status: 'SUCCEEDED', runNumber: 3, runId: 'legacy_2023-12-01_a3' });
      expect(record?.consumed).toStrictEqual([
        { source: 'schedule', label: 'schedule', version: '2023-12-02T00:00:00.000Z', order: '18c27f2a000', runNumber: 3, at: '2023-12-02T00:00:05.000Z' },
      ]);
    });

    it('claims the next run as run 4, moving the counter to runNumber', async () => {
      // Given
      await table.putPreviousVersionItem('legacy', '2023-12-02', { status: 'SUCCEEDED', attempt: 3 });

      // When
      const claim = await store.claim('legacy', '2023-12-02', { trigger: 'manual', now: NOW });

      // Then
      expect(claim).toStrictEqual({ kind: 'claimed', runNumber: 4, runId: runIdOf('legacy', '2023-12-02', 4) });
      const item = await table.rawItem('legacy', '2023-12-02');
      expect(item?.runNumber).toStrictEqual({ N: '4' });
      expect(item).not.toHaveProperty('attempt');
      expect(await store.get('legacy', '2023-12-02')).toMatchObject({ status: 'RUNNING', runNumber: 4 });
    });

    it('lets exactly one of many concurrent claims of it win', async () => {
      // Given
      await table.putPreviousVersionItem('legacy', '2023-12-03', { status: 'FAILED', attempt: 3 });

      // When
      const claims = await Promise.all(Array.from({ length: 8 }, () => store.claim('legacy', '2023-12-03', { trigger: 's3', now: NOW })));

      // Then
      const won = claims.filter((c) => c.kind === 'claimed');
      expect(won).toStrictEqual([{ kind: 'claimed', runNumber: 4, runId: runIdOf('legacy', '2023-12-03', 4) }]);
      expect(claims.filter((c) => c.kind === 'busy').every((c) => c.runId === won[0]!.runId)).toBe(true);
    });

    it('refuses a claim of what it read once the previous version ran it again (a launcher not yet upgraded)', async () => {
      // Given the item read at attempt 3, then run again by the previous version
      await table.putPreviousVersionItem('legacy', '2023-12-05', { status: 'SUCCEEDED', attempt: 3 });
      const read = await store.get('legacy', '2023-12-05');
      await table.putPreviousVersionItem('legacy', '2023-12-05', { status: 'SUCCEEDED', attempt: 4 });

      // When
      const claim = await store.claimConsuming('legacy', '2023-12-05', read, { trigger: 'schedule', now: NOW, consumed: [] });

      // Then
      expect(claim).toStrictEqual({ kind: 'changed' });
      expect((await table.rawItem('legacy', '2023-12-05'))?.attempt).toStrictEqual({ N: '4' });
    });

    it('ends its run in progress by its run id, as the previous version claimed it', async () => {
      // Given a run the previous version claimed
      await table.putPreviousVersionItem('legacy', '2023-12-04', { status: 'RUNNING', attempt: 3 });

      // When
      const marked = await store.markFailed('legacy', '2023-12-04', 'legacy_2023-12-04_a3', { error: 'ExecutionAborted' });

      // Then
      expect(marked).toBe(true);
      expect(await store.get('legacy', '2023-12-04')).toMatchObject({ status: 'FAILED', runNumber: 3 });
      expect(await store.claim('legacy', '2023-12-04', { trigger: 'manual', now: NOW })).toMatchObject({ kind: 'claimed', runNumber: 4 });
    });
  });

  it('lists past DynamoDB\'s 1 MB page, following LastEvaluatedKey', async () => {
    // Given four items of ~350 KB: more than one page
    const big = 'x'.repeat(350 * 1024);
    for (const p of ['a', 'b', 'c', 'd']) {
      const claim = await store.claim('wide', p, { trigger: 'manual', now: NOW });
      await store.markFailed('wide', p, claim.runId, { error: 'Big', cause: big });
    }

    // When
    const all = await store.list('wide');

    // Then
    expect(all.map((r) => r.partition)).toStrictEqual(['a', 'b', 'c', 'd']);
  });
});
