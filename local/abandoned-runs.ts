import type { RunInput } from '../lib/compile/contract';
import { PARTITION_TABLE } from '../lib/compile/partition-item';
import type { LocalEngine, LocalStage } from './engine';
import { isAbandoned, readRunningRecords } from './engine/records';
import type { LocalPipeline } from './local-pipelines';
import type { LocalDynamo } from './services/dynamodb';

/**
 * A crash must not leave a partition RUNNING forever. Executions whose process ended cannot go on
 * locally as they would on AWS: they are aborted and their partitions marked FAILED. Then each
 * pipeline's run monitor reconciles its RUNNING partitions, through its own bundle and its
 * schedule's input, as its reconciliation schedule does every 10 minutes on AWS and in
 * `sluice dev`: partitions claimed by a launch interrupted before its execution started are
 * marked FAILED (`sluice.LaunchInterrupted`) and alerted about. The reconciliation's 5-minute
 * grace lets a launch in progress finish; when no other process uses this state (`alone`),
 * none can be in progress, and a claim the killed process left is failed at once.
 */
export async function failAbandonedRuns(engine: LocalEngine, pipelines: ReadonlyMap<string, LocalPipeline>, dynamo: LocalDynamo, alone: boolean): Promise<void> {
  for (const record of engine.abortAbandoned()) {
    // Loaded for a record to repair only: the stores load the SDK, which a start finding none skips.
    const [{ BackfillStore }, { PartitionStore }] = await Promise.all([import('../orchestration/backfill-store'), import('../orchestration/partition-store')]);
    const backfilled = [...pipelines.values()].find((p) => p.backfill?.arn === record.stateMachineArn);
    if (backfilled) {
      // Its runs were abandoned too, and are failed below; the backfill itself ends ABORTED.
      await new BackfillStore(dynamo.client(), backfilled.tableName).end(backfilled.name, record.name, 'ABORTED', {
        now: new Date(),
        reason: record.cause ?? 'the local process that ran it ended before it finished',
      });
      continue;
    }
    const pipeline = [...pipelines.values()].find((p) => p.stateMachine.arn === record.stateMachineArn);
    const input = JSON.parse(record.input) as Partial<RunInput>;
    if (!pipeline || !input.partition || !input.runId) continue;
    await new PartitionStore(dynamo.client(), pipeline.tableName).markFailed(pipeline.name, input.partition, input.runId, {
      error: record.error ?? 'sluice.ProcessEnded',
      cause: record.cause,
    });
  }
  // A reconciliation acts only on these two lists; when both are empty, loading the monitor's
  // bundle to find that out again would be most of a command's start with many pipelines. The
  // lists of every pipeline are read side by side: a start waits for them before it launches.
  const toReconcile = await Promise.all([...pipelines.values()].map(async (pipeline) => ((await hasPartitionsToReconcile(pipeline, dynamo)) ? [pipeline] : [])));
  for (const pipeline of toReconcile.flat()) {
    const { monitor } = pipeline;
    const reconciliations = engine.stage.schedules.filter((s) => monitor && engine.stage.findFunction(s.target.arn)?.arn === monitor.arn);
    for (const schedule of reconciliations) {
      const input = JSON.parse(schedule.target.input ?? '{}') as Record<string, unknown>;
      const result = await engine.invoke(schedule.target.arn, alone ? { ...input, graceMs: 0 } : input);
      if (!result.ok) {
        throw new Error(`Reconciling the partitions of pipeline "${pipeline.name}" failed: ${result.errorType}: ${result.errorMessage}`);
      }
    }
  }
}

/**
 * Whether a pipeline has partitions RUNNING or with a rerun requested, what a reconciliation acts
 * on: whether either sparse index lists one (`PartitionStore.listRunning` and `listRerunRequested`
 * read the same entries). Read with the JSON API, as every command's start reads them: a start that
 * finds nothing to do needs no SDK.
 */
async function hasPartitionsToReconcile(pipeline: LocalPipeline, dynamo: LocalDynamo): Promise<boolean> {
  const { runningIndex, rerunIndex } = PARTITION_TABLE;
  const listed = [
    { index: runningIndex, key: pipeline.name },
    { index: runningIndex, key: `${pipeline.name}${runningIndex.batchSuffix}` },
    { index: rerunIndex, key: pipeline.name },
  ];
  const counts = await Promise.all(
    listed.map(async ({ index, key }) => {
      const { Count } = (await dynamo.json().call('Query', {
        TableName: pipeline.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#indexed = :key',
        ExpressionAttributeNames: { '#indexed': index.partitionKey },
        ExpressionAttributeValues: { ':key': { S: key } },
        Select: 'COUNT',
        Limit: 1,
      })) as { Count?: number };
      return Count ?? 0;
    }),
  );
  return counts.some((count) => count > 0);
}

/**
 * Whether {@link failAbandonedRuns} could find anything to do, told without an engine: an
 * execution abandoned by its process (`isAbandoned`), a partition RUNNING or with a rerun
 * requested, or a partition table not created yet. A command that only reads partitions starts
 * the runtime, which repairs them, only then.
 */
export async function hasRunsToRepair(home: string, stage: LocalStage, pipelines: ReadonlyMap<string, LocalPipeline>, dynamo: LocalDynamo): Promise<boolean> {
  for (const stateMachine of stage.stateMachines) {
    // A damaged record is left out: a start cannot repair it either, only report it (and does).
    if (readRunningRecords(home, stateMachine.name, () => {}).some(isAbandoned)) return true;
  }
  try {
    for (const pipeline of pipelines.values()) if (await hasPartitionsToReconcile(pipeline, dynamo)) return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return true;
    throw error;
  }
  return false;
}
