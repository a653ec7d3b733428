/**
 * How a deployed stage's resources are found: fixed names for what is unique to a stage and
 * readable in the console, and SSM parameters under `/sluice/<stage>/` for every name or ARN that
 * CloudFormation generates (bucket names, the alert key) or that a tool needs to look up (a
 * pipeline's launcher). The pipeline stacks read what the platform stack shares through these
 * names and parameters, never through CloudFormation exports: an export pins its producer (it can
 * be neither replaced nor removed while a stack imports it), a parameter read by name does not.
 *
 * Pure: the constructs write these names, the CLI (`--stage`) reads them, both from here.
 */

/** AWS limits the names below must respect, checked where a stage or pipeline is validated. */
export const NAME_LIMITS = Object.freeze({
  /** Step Functions state machine names: 1 to 80 characters. */
  stateMachine: 80,
  /** Longest stage name: `<stage>-<pipeline>-backfill` must fit a state machine name. */
  stage: 20,
});

/** Fixed names of a stage's shared resources and of its pipelines' state machines. */
export const deployedNames = Object.freeze({
  /** The stage's partition table. */
  partitionTable: (stage: string): string => `sluice-${stage}-partitions`,
  /** The stage's alert topic. */
  alertTopic: (stage: string): string => `sluice-${stage}-alerts`,
  /** The alias of the key that encrypts the alert topic. */
  alertKeyAlias: (stage: string): string => `alias/sluice/${stage}/alerts`,
  /** A pipeline's run state machine: the Step Functions console lists runs under this name. */
  stateMachine: (stage: string, pipeline: string): string => `${stage}-${pipeline}`,
  /**
   * The log group of a state machine. Under `/aws/vendedlogs/states/`, for which CloudWatch Logs
   * needs no resource-policy entry per log group (the resource policy is limited to 5,120
   * characters, which a few dozen state machines elsewhere would exceed).
   *
   * @see https://docs.aws.amazon.com/step-functions/latest/dg/cw-logs.html#cloudwatch-iam-policy
   */
  stateMachineLogGroup: (stateMachineName: string): string => `/aws/vendedlogs/states/${stateMachineName}`,
});

/** The SSM parameter prefix of a stage: every parameter sluice publishes is under it. */
export function stageParameterPrefix(stage: string): string {
  return `/sluice/${stage}`;
}

/** Names of the SSM parameters (String) a stage publishes; their values are names or ARNs. */
export const stageParameters = Object.freeze({
  /** Name of the partition table. */
  partitionTableName: (stage: string): string => `${stageParameterPrefix(stage)}/partition-table/name`,
  /** ARN of the alert topic. */
  alertTopicArn: (stage: string): string => `${stageParameterPrefix(stage)}/alerts/topic-arn`,
  /** ARN of the KMS key encrypting the alert topic (publishers need it). */
  alertKeyArn: (stage: string): string => `${stageParameterPrefix(stage)}/alerts/key-arn`,
  /** Deployed name of the bucket a stage calls `logical`. */
  bucketName: (stage: string, logical: string): string => `${stageParameterPrefix(stage)}/buckets/${logical}/name`,
  /** ARN of a pipeline's run state machine. */
  stateMachineArn: (stage: string, pipeline: string): string => `${stageParameterPrefix(stage)}/pipelines/${pipeline}/state-machine-arn`,
  /** Name of a pipeline's launcher function (every run starts by invoking it). */
  launcherFunctionName: (stage: string, pipeline: string): string => `${stageParameterPrefix(stage)}/pipelines/${pipeline}/launcher-function-name`,
  /** Name of a pipeline's run monitor function. */
  monitorFunctionName: (stage: string, pipeline: string): string => `${stageParameterPrefix(stage)}/pipelines/${pipeline}/monitor-function-name`,
  /** ARN of a pipeline's backfill state machine. */
  backfillStateMachineArn: (stage: string, pipeline: string): string => `${stageParameterPrefix(stage)}/pipelines/${pipeline}/backfill-state-machine-arn`,
  /**
   * Name of a pipeline's EventBridge Scheduler schedule (in the default group), for pipelines
   * with a schedule: CloudFormation names it, and `sluice pause` sets its state.
   */
  scheduleName: (stage: string, pipeline: string): string => `${stageParameterPrefix(stage)}/pipelines/${pipeline}/schedule-name`,
  /** Name of the CloudWatch Logs group of a task's function, where `sluice logs` reads its attempts. */
  taskLogGroupName: (stage: string, pipeline: string, task: string): string =>
    `${stageParameterPrefix(stage)}/pipelines/${pipeline}/tasks/${task}/log-group-name`,
});

/** The path under which every pipeline of a stage publishes its parameters (`GetParametersByPath`). */
export function pipelinesParameterPath(stage: string): string {
  return `${stageParameterPrefix(stage)}/pipelines/`;
}
