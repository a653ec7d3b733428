import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { PARTITION_TABLE, RUN_RESULTS } from '../../compile/contract';
import { resultPathOf, resultValuePathOf } from './flow';

/** Names of the states around a task's own state (which is named after the task). */
export const TASK_STATES = Object.freeze({
  /** The Choice between executing the task and reusing an earlier run's result. */
  choose: (task: string) => `Reuse ${task}?`,
  /** Reads the result an earlier run recorded. */
  reuse: (task: string) => `Reuse ${task}`,
  /** Records the task's result under this run. */
  record: (task: string) => `Record ${task}`,
});

/** What {@link reusableTask} builds around a task's state. */
export interface ReusableTaskProps {
  readonly task: string;
  /** The pipeline, recorded on each result item. */
  readonly pipeline: string;
  /** The task's own state: it leaves the task's result at `$.results.<task>` (`{ value }`). */
  readonly execute: sfn.IChainable & sfn.INextable;
  /** The partition table, where results are recorded (`RUN_RESULTS`). */
  readonly table: dynamodb.ITable;
  /** Bounds each DynamoDB call. */
  readonly timeout: Duration;
}

/**
 * A task as a rerun needs it, compiled into the state machine so that it behaves the same on AWS
 * and locally: when the run input names a run under `reuse.<task>`, the task is not executed and
 * its result is the one that run recorded; otherwise the task is executed. Either way, the result
 * is then recorded under this run, so that a rerun of this run can reuse it in turn.
 *
 * ```
 * Reuse <task>? ── $.reuse.<task> present ──▶ Reuse <task> (GetItem) ──┐
 *        └──────── otherwise ───────────────▶ <task> (Lambda) ─────────┴─▶ Record <task> (PutItem)
 * ```
 */
export function reusableTask(scope: Construct, props: ReusableTaskProps): sfn.Chain {
  const { task, table, timeout } = props;
  const reusePath = `$.reuse.${task}`;
  const reuse = new tasks.DynamoGetItem(scope, TASK_STATES.reuse(task), {
    comment: `Takes the result of task ${task} that the run named in ${reusePath} recorded`,
    table,
    key: resultKey(sfn.JsonPath.stringAt(reusePath), task),
    consistentRead: true,
    resultSelector: { value: sfn.JsonPath.stringToJson(sfn.JsonPath.stringAt(`$.Item.${RUN_RESULTS.value}.S`)) },
    resultPath: resultPathOf(task),
    taskTimeout: sfn.Timeout.duration(timeout),
  });
  const record = new tasks.DynamoPutItem(scope, TASK_STATES.record(task), {
    comment: `Records the result of task ${task} under this run, for a rerun to reuse`,
    table,
    item: {
      ...resultKey(sfn.JsonPath.stringAt('$.runId'), task),
      [RUN_RESULTS.value]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt(resultValuePathOf(task)))),
      [RUN_RESULTS.pipeline]: tasks.DynamoAttributeValue.fromString(props.pipeline),
      [RUN_RESULTS.recordedAt]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stateEnteredTime),
    },
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(timeout),
  });
  for (const state of [reuse, record]) {
    // A throttled or failed DynamoDB call must not fail a run whose task did its work.
    state.addRetry({ errors: [sfn.Errors.ALL], maxAttempts: 3, interval: Duration.seconds(1), backoffRate: 2 });
  }
  const choose = new sfn.Choice(scope, TASK_STATES.choose(task))
    .when(sfn.Condition.isPresent(reusePath), reuse.next(record))
    .otherwise(props.execute.next(record));
  return sfn.Chain.custom(choose, record.endStates, record);
}

function resultKey(runId: string, task: string): Record<string, tasks.DynamoAttributeValue> {
  return {
    [PARTITION_TABLE.partitionKey]: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.format(`${RUN_RESULTS.partitionKeyPrefix}{}`, runId)),
    [PARTITION_TABLE.sortKey]: tasks.DynamoAttributeValue.fromString(`${RUN_RESULTS.sortKeyPrefix}${task}`),
  };
}
