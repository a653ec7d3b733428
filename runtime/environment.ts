import { BUCKETS_ENV, LAUNCHER_ENV, type LauncherConfig } from '../lib/compile/contract';
import type { PartitionSpec } from '../lib/definitions/partitions';
import { partitionSpecIssues } from '../lib/compile/partition-keys';
import type { BucketNames } from './launch';

/** Environment variable holding the deployed bucket names (see `BUCKETS_ENV`). */
export const SLUICE_BUCKETS_ENV = BUCKETS_ENV;

/** Thrown at cold start when a function's environment is missing or malformed. */
export class EnvironmentError extends Error {
  constructor(variable: string, problem: string) {
    super(`Environment variable ${variable} ${problem}. It is set by the sluice constructs: redeploy the stage.`);
    this.name = 'EnvironmentError';
  }
}

/** What the launcher function reads from its environment. */
export interface LauncherEnvironment {
  readonly config: LauncherConfig;
  readonly bucketNames: BucketNames;
  readonly tableName: string;
  readonly stateMachineArn: string;
}

/** Reads and validates the launcher's environment (`LAUNCHER_ENV` and `SLUICE_BUCKETS`). */
export function readLauncherEnvironment(env: Readonly<Record<string, string | undefined>>): LauncherEnvironment {
  const config = parseConfig(required(env, LAUNCHER_ENV.pipeline));
  const bucketNames = parseBuckets(env[SLUICE_BUCKETS_ENV] ?? '{}');
  for (const trigger of config.triggers) {
    if (!bucketNames[trigger.bucket]) {
      throw new EnvironmentError(
        SLUICE_BUCKETS_ENV,
        `has no deployed bucket for the logical bucket "${trigger.bucket}" of pipeline "${config.name}"`,
      );
    }
  }
  return {
    config,
    bucketNames,
    tableName: required(env, LAUNCHER_ENV.tableName),
    stateMachineArn: required(env, LAUNCHER_ENV.stateMachineArn),
  };
}

/** What a pipeline's backfill function reads from its environment. */
export interface BackfillEnvironment {
  readonly config: LauncherConfig;
  readonly tableName: string;
}

/** Reads and validates the backfill function's environment (`BACKFILL_ENV`). */
export function readBackfillEnvironment(env: Readonly<Record<string, string | undefined>>): BackfillEnvironment {
  return { config: parseConfig(required(env, LAUNCHER_ENV.pipeline)), tableName: required(env, LAUNCHER_ENV.tableName) };
}

/** What the run-monitor function reads from its environment. */
export interface RunMonitorEnvironment {
  /** The pipeline, to launch the reruns S3 arrivals request as the launcher would. */
  readonly config: LauncherConfig;
  readonly tableName: string;
  readonly alertTopicArn: string;
  /** The monitored state machine, where reruns start (`LAUNCHER_ENV.rerunStateMachineArn`). */
  readonly stateMachineArn: string;
  /** For console links; Lambda sets `AWS_REGION`. */
  readonly region: string;
  /** The stage's event bus, where ended partitions are published (`LAUNCHER_ENV.eventBusName`). */
  readonly eventBusName: string;
}

/**
 * Reads and validates the run monitor's environment. The monitor starts runs with the launcher's
 * configuration but never matches S3 events, so it needs no bucket names.
 */
export function readRunMonitorEnvironment(env: Readonly<Record<string, string | undefined>>): RunMonitorEnvironment {
  return {
    config: parseConfig(required(env, LAUNCHER_ENV.pipeline)),
    tableName: required(env, LAUNCHER_ENV.tableName),
    alertTopicArn: required(env, LAUNCHER_ENV.alertTopicArn),
    stateMachineArn: required(env, LAUNCHER_ENV.rerunStateMachineArn),
    region: required(env, 'AWS_REGION'),
    eventBusName: required(env, LAUNCHER_ENV.eventBusName),
  };
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new EnvironmentError(name, 'is not set');
  return value;
}

function parseJson(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EnvironmentError(name, `is not valid JSON (${(error as Error).message})`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const PARTITION_KINDS: readonly string[] = ['hourly', 'daily', 'weekly', 'monthly', 'static', 'multi'];

function parseConfig(text: string): LauncherConfig {
  const name = LAUNCHER_ENV.pipeline;
  const value = parseJson(name, text);
  if (!isRecord(value) || typeof value.name !== 'string' || !Array.isArray(value.triggers)) {
    throw new EnvironmentError(
      name,
      'is not a launcher configuration: expected { name, maxConcurrentRuns, triggers, partitions?, schedule? }',
    );
  }
  if (!Array.isArray(value.tasks) || !value.tasks.every((t) => isRecord(t) && typeof t.name === 'string' && Array.isArray(t.after))) {
    throw new EnvironmentError(name, `has tasks ${JSON.stringify(value.tasks)?.slice(0, 200)}; expected [{ name, after: [...] }, ...]`);
  }
  const limit = value.maxConcurrentRuns;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new EnvironmentError(name, `has maxConcurrentRuns ${JSON.stringify(limit)}; expected a whole number of at least 1`);
  }
  if (value.partitions !== undefined && !(isRecord(value.partitions) && PARTITION_KINDS.includes(String(value.partitions.kind)))) {
    throw new EnvironmentError(name, `has an unknown partition spec ${JSON.stringify(value.partitions)}`);
  }
  const specIssues = value.partitions === undefined ? [] : partitionSpecIssues(value.partitions as unknown as PartitionSpec);
  if (specIssues.length > 0) throw new EnvironmentError(name, `has an invalid partition spec: ${specIssues.join('; ')}`);
  value.triggers.forEach((trigger: unknown, index) => {
    const where = `trigger ${index + 1}`;
    if (!isRecord(trigger) || trigger.kind !== 's3Arrival' || typeof trigger.bucket !== 'string') {
      throw new EnvironmentError(name, `has an invalid ${where}: expected { kind: 's3Arrival', bucket, ... }`);
    }
    const regex = trigger.partitionFromKey;
    if (regex === undefined) return;
    if (!isRecord(regex) || typeof regex.source !== 'string' || typeof regex.flags !== 'string') {
      throw new EnvironmentError(name, `has an invalid partitionFromKey in ${where}: expected { source, flags }`);
    }
    try {
      new RegExp(regex.source, regex.flags);
    } catch (error) {
      throw new EnvironmentError(name, `has an invalid partitionFromKey in ${where} (${(error as Error).message})`);
    }
  });
  return value as unknown as LauncherConfig;
}

function parseBuckets(text: string): BucketNames {
  const value = parseJson(SLUICE_BUCKETS_ENV, text);
  if (!isRecord(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new EnvironmentError(SLUICE_BUCKETS_ENV, 'is not a JSON object of logical bucket name to deployed bucket name');
  }
  return value as BucketNames;
}
