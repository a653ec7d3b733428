import { BUCKETS_ENV, LAUNCHER_ENV, type LauncherConfig } from '../lib/compile/contract';
import type { BucketNames } from './s3-arrival';
import { bucketNamesSchema, describeIssue, launcherConfigSchema, safeParse } from './schemas';

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

/** The launcher configuration, checked against its schema; the first problem is named. */
function parseConfig(text: string): LauncherConfig {
  const name = LAUNCHER_ENV.pipeline;
  const value = parseJson(name, text);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('name' in value) || !('triggers' in value)) {
    throw new EnvironmentError(name, 'is not a launcher configuration: expected { name, maxConcurrentRuns, triggers, partitions?, schedule? }');
  }
  const parsed = safeParse(launcherConfigSchema, value);
  if (!parsed.success) throw new EnvironmentError(name, describeIssue(parsed.error));
  return parsed.data;
}

function parseBuckets(text: string): BucketNames {
  const parsed = safeParse(bucketNamesSchema, parseJson(SLUICE_BUCKETS_ENV, text));
  if (!parsed.success) throw new EnvironmentError(SLUICE_BUCKETS_ENV, describeIssue(parsed.error));
  return parsed.data;
}
