import type { RetryPolicy } from './retry';

/** Properties of one task of a pipeline. */
export interface TaskProps {
  /**
   * Path of the handler module, relative to the folder of the `pipeline.ts` that declares the
   * task. The module must export `handler`: `export const handler = async (event) => result`.
   */
  readonly handler: string;
  /**
   * Names of the tasks that must succeed before this one starts. Their results are passed to
   * this task's handler as `event.results`.
   *
   * @default - none: the task starts with the run
   */
  readonly after?: readonly string[];
  /**
   * Seconds one attempt may take before it fails with `States.Timeout`. Also the Lambda timeout.
   * At most 900 (Lambda's limit).
   *
   * @default 300
   */
  readonly timeoutSeconds?: number;
  /**
   * Memory of the task's Lambda function, in MB (128 to 10240).
   *
   * @default 512
   */
  readonly memoryMb?: number;
  /**
   * Retry policy of this task, merged field by field over the pipeline's.
   *
   * @default - the pipeline's policy
   */
  readonly retry?: RetryPolicy;
  /**
   * Logical buckets (names from the stage configuration) the task reads and writes. Its role gets
   * exactly that access, and its handler finds the deployed names in the `SLUICE_BUCKETS`
   * environment variable (JSON: logical name → bucket name).
   *
   * @default - no bucket access
   */
  readonly buckets?: TaskBuckets;
  /**
   * Extra environment variables of the task's Lambda function. Plain values, the same in every
   * stage, visible in the template: a password or a token goes in `secrets`.
   *
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Logical names of the secrets the task reads (`[A-Za-z0-9_.-]`, e.g. `warehouse-password`).
   * Each stage says where each one is (`secrets` of the stage configuration: a Secrets Manager
   * secret or an SSM parameter); the task's role may read exactly those, and the handler reads a
   * value with `await secret('warehouse-password')`. Locally the values come from
   * `secrets.local.json` in the project (git-ignored). No value ever appears in a template.
   *
   * @default - no secrets
   */
  readonly secrets?: readonly string[];
}

/** Bucket access of a task, by logical bucket name. */
export interface TaskBuckets {
  /**
   * Buckets the task only reads.
   *
   * @default - none
   */
  readonly read?: readonly string[];
  /**
   * Buckets the task reads and writes (puts objects in; no deletes, no retention or legal hold).
   *
   * @default - none
   */
  readonly write?: readonly string[];
  /**
   * Buckets the task reads, writes and deletes objects in. On a versioned bucket a delete adds a
   * delete marker; earlier versions stay until the bucket's lifecycle expires them.
   *
   * @default - none
   */
  readonly delete?: readonly string[];
}

/** A task as declared: an immutable value. */
export interface TaskDefinition extends TaskProps {
  readonly kind: 'task';
  /**
   * Present on a sensor (declared with `sensor()`): the handler is checked every
   * `intervalSeconds` until it returns `true`.
   *
   * @default - a plain task
   */
  readonly sensor?: SensorSchedule;
}

/** How often a sensor checks its condition, and for how long. */
export interface SensorSchedule {
  /** Seconds between two checks; the run waits in a Wait state meanwhile (no Lambda runs). */
  readonly intervalSeconds: number;
  /**
   * Seconds after the first check when the sensor gives up: it fails with `SensorTimeoutError`
   * (retried like any error by the task's retry policy, and alerted about). At most one year.
   */
  readonly timeoutSeconds: number;
}

/** Properties of a sensor: a task whose handler answers whether a condition holds. */
export interface SensorProps extends Omit<TaskProps, 'timeoutSeconds'>, SensorSchedule {
  /**
   * Seconds one check may take (the Lambda timeout of the handler). At most 900.
   *
   * @default 60
   */
  readonly checkTimeoutSeconds?: number;
}

/**
 * Declares a sensor: a task whose handler returns `true` once its condition holds (a file exists,
 * an API answers, a table has today's rows) and `false` until then. The run checks it, waits
 * `intervalSeconds` in a Wait state (no Lambda waiting, no cost), and checks again, until it
 * returns `true` (then the tasks after it start, with `true` as its result) or `timeoutSeconds`
 * have passed (then it fails with `SensorTimeoutError`). The handler's event also carries `check`,
 * the number of the check from 1.
 */
export function sensor(props: SensorProps): TaskDefinition {
  const { intervalSeconds, timeoutSeconds, checkTimeoutSeconds, ...task } = props;
  return Object.freeze({
    kind: 'task',
    ...task,
    timeoutSeconds: checkTimeoutSeconds ?? SENSOR_CHECK_TIMEOUT_SECONDS,
    after: props.after ? Object.freeze([...props.after]) : undefined,
    sensor: Object.freeze({ intervalSeconds, timeoutSeconds }),
  });
}

/** Default Lambda timeout of one sensor check. */
export const SENSOR_CHECK_TIMEOUT_SECONDS = 60;

/** Declares a task. */
export function task(props: TaskProps): TaskDefinition {
  return Object.freeze({ kind: 'task', ...props, after: props.after ? Object.freeze([...props.after]) : undefined });
}
