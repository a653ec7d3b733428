import type { PipelineDefinition } from '../definitions/pipeline';
import type { RetryPolicy } from '../definitions/retry';
import type { TaskDefinition } from '../definitions/task';
import type { ValidationIssue } from './errors';
import { MAX_PARTITIONS_PER_RUN } from './model';
import { PARAM_NAME } from './params';
import { partitionSpecIssues } from './partition-keys';
import { closest } from './private/closest';
import { cyclesOf } from './private/cycles';
import { scheduleIssues } from './schedule';
import { upstreamShapeIssues } from './upstream';

/** Pipeline names prefix resource names, so they stay short and DNS-like. */
const PIPELINE_NAME = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** Logical secret names: keys of the stage configuration and of `secrets.local.json`. */
export const SECRET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Task names become Step Functions state names and part of Lambda function names. */
const TASK_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** A standard workflow runs at most a year. */
const SENSOR_MAX_SECONDS = 365 * 24 * 3600;

/**
 * Every problem of a pipeline definition, not just the first. Pure: handler files are checked by
 * the loader, which knows where the pipeline lives.
 */
export function validatePipeline(def: PipelineDefinition): ValidationIssue[] {
  const pipeline = typeof def.name === 'string' && def.name ? def.name : '(unnamed)';
  const issues: ValidationIssue[] = [];
  const add = (message: string, fix: string, task?: string) => issues.push({ pipeline, task, message, fix });

  if (!PIPELINE_NAME.test(String(def.name))) {
    add(
      `invalid pipeline name ${JSON.stringify(def.name)}`,
      'use 1 to 40 lowercase letters, digits and "-", starting with a letter and not ending with "-" (e.g. "daily-sales")',
    );
  }

  for (const [name, param] of Object.entries(def.params ?? {})) {
    if (!PARAM_NAME.test(name)) {
      add(`invalid parameter name ${JSON.stringify(name)}`, 'use 1 to 64 letters, digits and "_", starting with a letter or "_"');
    }
    const type = param?.type;
    if (type !== 'string' && type !== 'number' && type !== 'boolean') {
      add(`parameter "${name}" has no valid type`, 'declare it with stringParam(), numberParam() or booleanParam()');
    } else if (typeof param.default !== type || (type === 'number' && !Number.isFinite(param.default))) {
      add(`parameter "${name}" has default ${JSON.stringify(param.default)}, which is not a ${type}`, `give it a ${type} default`);
    }
  }

  const tasks = Object.entries(def.tasks ?? {});
  if (tasks.length === 0) {
    add('the pipeline has no tasks', 'declare at least one task in `tasks: { name: task({ handler: "./handler.ts" }) }`');
  }

  const byLowerName = new Map<string, string>();
  for (const [name, t] of tasks) {
    if (!TASK_NAME.test(name)) {
      add(
        `invalid task name ${JSON.stringify(name)}`,
        'use 1 to 40 letters, digits, "-" and "_", starting with a letter (task names become Step Functions state and Lambda function names)',
        name,
      );
    }
    const twin = byLowerName.get(name.toLowerCase());
    if (twin !== undefined) {
      add(
        `duplicate task name: "${name}" and "${twin}" differ only in case`,
        'rename one of them; task names must differ in more than case because they name Lambda functions and log groups',
        name,
      );
    }
    byLowerName.set(name.toLowerCase(), name);
    if (t?.kind !== 'task') {
      add('the value is not a task', 'declare it with `task({ handler: "./handler.ts" })`', name);
      continue;
    }
    issues.push(...taskIssues(pipeline, name, t, new Set(tasks.map(([n]) => n))));
  }

  for (const cycle of findCycles(def)) {
    add(
      `dependency cycle: ${cycle.join(' → ')}`,
      `remove one of these \`after\` dependencies so that the tasks form a DAG`,
      cycle[0],
    );
  }

  issues.push(...retryIssues(def.retry).map((m) => ({ pipeline, message: `pipeline retry: ${m.message}`, fix: m.fix })));

  if (def.maxConcurrentRuns !== undefined && !(Number.isInteger(def.maxConcurrentRuns) && def.maxConcurrentRuns >= 1)) {
    add(`invalid maxConcurrentRuns ${def.maxConcurrentRuns}`, 'use a whole number of at least 1');
  }
  const perRun = def.backfill?.partitionsPerRun;
  if (perRun !== undefined && !(Number.isInteger(perRun) && perRun >= 1 && perRun <= MAX_PARTITIONS_PER_RUN)) {
    add(`invalid backfill.partitionsPerRun ${perRun}`, `use a whole number from 1 to ${MAX_PARTITIONS_PER_RUN}`);
  }
  if (def.schedule) {
    for (const message of scheduleIssues(def.schedule)) add(`schedule: ${message}`, 'correct the schedule');
  }
  if (def.partitions) {
    for (const message of partitionSpecIssues(def.partitions)) add(`partitions: ${message}`, 'correct the partition spec');
  }
  (def.triggers ?? []).forEach((trigger, index) => {
    const where = `trigger ${index + 1} (s3Arrival)`;
    if (trigger?.kind !== 's3Arrival') {
      add(`trigger ${index + 1} is not a known trigger`, 'declare triggers with `s3Arrival({ bucket, prefix, suffix })`');
      return;
    }
    if (!BUCKET_NAME.test(String(trigger.bucket))) {
      add(
        `${where}: invalid bucket name ${JSON.stringify(trigger.bucket)}`,
        'use the logical bucket name of the stage configuration (lowercase letters, digits, "-" and ".")',
      );
    }
    const regex = trigger.partitionFromKey;
    if (regex !== undefined && !(regex instanceof RegExp)) {
      add(`${where}: partitionFromKey is not a regular expression`, 'pass a RegExp literal such as /^sales\\/(?<partition>\\d{4}-\\d{2}-\\d{2})\\//');
    } else if (regex && !/\(\?<partition>/.test(regex.source)) {
      add(
        `${where}: partitionFromKey ${String(regex)} has no named group "partition"`,
        'capture the partition key with a named group, e.g. /^sales\\/(?<partition>\\d{4}-\\d{2}-\\d{2})\\//',
      );
    }
    // Without a key pattern the launcher takes the time partition containing the event; a static
    // dimension has no such fallback.
    if (!regex && (def.partitions?.kind === 'static' || def.partitions?.kind === 'multi')) {
      add(
        `${where}: the pipeline has ${def.partitions.kind} partitions but the trigger has no partitionFromKey`,
        'add partitionFromKey with a named group "partition" that captures the full key (e.g. /^inventory\\/(?<partition>[a-z]+)\\//)',
      );
    }
    if (regex && !def.partitions) {
      add(`${where}: partitionFromKey is set but the pipeline has no partitions`, 'declare `partitions` or remove partitionFromKey');
    }
  });

  issues.push(...upstreamShapeIssues(pipeline, def.upstream));

  return issues;
}

function taskIssues(pipeline: string, name: string, t: TaskDefinition, known: Set<string>): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const add = (message: string, fix: string) => issues.push({ pipeline, task: name, message, fix });
  if (typeof t.handler !== 'string' || t.handler.trim() === '') {
    add('the task has no handler', 'set `handler` to a module path relative to pipeline.ts, e.g. "./extract.ts"');
  }
  const seen = new Set<string>();
  for (const dep of t.after ?? []) {
    if (dep === name) {
      add(`the task depends on itself`, `remove "${name}" from its own \`after\``);
    } else if (!known.has(dep)) {
      const suggestion = closest(dep, [...known]);
      add(
        `depends on unknown task "${dep}"`,
        suggestion ? `did you mean "${suggestion}"? \`after\` must name tasks of this pipeline` : '`after` must name tasks of this pipeline',
      );
    }
    if (seen.has(dep)) add(`depends on "${dep}" twice`, `list "${dep}" once in \`after\``);
    seen.add(dep);
  }
  if (t.timeoutSeconds !== undefined && !(Number.isInteger(t.timeoutSeconds) && t.timeoutSeconds >= 1 && t.timeoutSeconds <= LAMBDA_MAX_TIMEOUT_SECONDS)) {
    add(
      `invalid timeoutSeconds ${t.timeoutSeconds}`,
      `use a whole number from 1 to ${LAMBDA_MAX_TIMEOUT_SECONDS} (Lambda's limit); split longer work into several tasks`,
    );
  }
  if (t.memoryMb !== undefined && !(Number.isInteger(t.memoryMb) && t.memoryMb >= 128 && t.memoryMb <= 10240)) {
    add(`invalid memoryMb ${t.memoryMb}`, 'use a whole number of MB from 128 to 10240 (Lambda\'s limits)');
  }
  for (const m of retryIssues(t.retry)) add(`retry: ${m.message}`, m.fix);
  const secrets = new Set<string>();
  for (const secret of t.secrets ?? []) {
    if (typeof secret !== 'string' || !SECRET_NAME.test(secret)) {
      add(`invalid secret name ${JSON.stringify(secret)}`, 'use 1 to 64 letters, digits, ".", "-" and "_", e.g. "warehouse-password"');
    } else if (secrets.has(secret)) {
      add(`declares secret "${secret}" twice`, `list "${secret}" once in \`secrets\``);
    }
    secrets.add(secret);
  }
  if (t.sensor) {
    const { intervalSeconds, timeoutSeconds } = t.sensor;
    if (!(Number.isInteger(intervalSeconds) && intervalSeconds >= 1 && intervalSeconds <= SENSOR_MAX_SECONDS)) {
      add(`invalid sensor intervalSeconds ${intervalSeconds}`, `use a whole number of seconds from 1 to ${SENSOR_MAX_SECONDS} (a year)`);
    } else if (!(Number.isInteger(timeoutSeconds) && timeoutSeconds >= intervalSeconds && timeoutSeconds <= SENSOR_MAX_SECONDS)) {
      add(
        `invalid sensor timeoutSeconds ${timeoutSeconds}`,
        `use a whole number of seconds from intervalSeconds (${intervalSeconds}) to ${SENSOR_MAX_SECONDS} (a year, Step Functions' limit of a run)`,
      );
    }
  }
  return issues;
}

function retryIssues(retry: RetryPolicy | undefined): { message: string; fix: string }[] {
  if (!retry) return [];
  const issues: { message: string; fix: string }[] = [];
  const wholeAtLeast = (value: number | undefined, min: number) => value === undefined || (Number.isInteger(value) && value >= min);
  if (!wholeAtLeast(retry.attempts, 1) || (retry.attempts ?? 0) > 100) {
    issues.push({ message: `invalid attempts ${retry.attempts}`, fix: 'use a whole number from 1 (no retry) to 100' });
  }
  if (!wholeAtLeast(retry.intervalSeconds, 1)) {
    issues.push({ message: `invalid intervalSeconds ${retry.intervalSeconds}`, fix: 'use a whole number of seconds, at least 1' });
  }
  if (retry.backoffRate !== undefined && !(retry.backoffRate >= 1)) {
    issues.push({ message: `invalid backoffRate ${retry.backoffRate}`, fix: 'use a number of at least 1 (1 keeps the interval constant)' });
  }
  if (!wholeAtLeast(retry.maxDelaySeconds, 1)) {
    issues.push({ message: `invalid maxDelaySeconds ${retry.maxDelaySeconds}`, fix: 'use a whole number of seconds, at least 1' });
  }
  for (const list of ['retryOn', 'nonRetryableErrors'] as const) {
    const names = retry[list];
    if (names !== undefined && (!Array.isArray(names) || names.length === 0 || names.some((n) => typeof n !== 'string' || n === ''))) {
      issues.push({ message: `invalid ${list} ${JSON.stringify(names)}`, fix: 'list one or more error names, e.g. ["ThrottlingError"]' });
    }
  }
  if (retry.retryOn?.includes('States.ALL')) {
    issues.push({ message: 'retryOn lists "States.ALL"', fix: 'leave retryOn out to retry on every error' });
  }
  return issues;
}

/** The cycles of the dependency graph, each as a path that returns to its first task. */
export function findCycles(def: PipelineDefinition): string[][] {
  const tasks = def.tasks ?? {};
  return cyclesOf(Object.keys(tasks), (name) => tasks[name]?.after ?? []);
}
