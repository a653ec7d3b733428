/**
 * The shapes of what reaches sluice's functions from outside their code: the environment the
 * constructs set and the events Lambda delivers. One module of zod schemas, so that each shape is
 * checked once, the same way wherever it arrives, instead of hand checks and `as` casts.
 */
import { z } from 'zod';
import type { LauncherConfig } from '../lib/compile/contract';
import { partitionSpecIssues } from '../lib/compile/partition-keys';
import type { PartitionSpec } from '../lib/definitions/partitions';
import type { PartitionMapping } from '../lib/definitions/upstream';

const PARTITION_KINDS = ['hourly', 'daily', 'weekly', 'monthly', 'static', 'multi'] as const;
const MAPPING_KINDS = ['sameKey', 'timeWindow', 'fanIn', 'fanOut'] as const;

/** A partition spec: its kind checked here, the rest by the same checks the compiler makes. */
const partitionSpec = z
  .looseObject({ kind: z.enum(PARTITION_KINDS, { error: `a partition kind (${PARTITION_KINDS.join(', ')})` }) })
  .check((ctx) => {
    const issues = partitionSpecIssues(ctx.value as unknown as PartitionSpec);
    if (issues.length > 0) ctx.issues.push({ code: 'custom', message: `a valid partition spec (${issues.join('; ')})`, input: ctx.value });
  })
  .transform((spec) => spec as unknown as PartitionSpec);

const mapping = z.looseObject({ kind: z.enum(MAPPING_KINDS) }).transform((m) => m as unknown as PartitionMapping);

/** A regular expression as `{ source, flags }`, which must compile. */
const regex = z.object({ source: z.string(), flags: z.string() }).check((ctx) => {
  try {
    new RegExp(ctx.value.source, ctx.value.flags);
  } catch (error) {
    ctx.issues.push({ code: 'custom', message: `a valid regular expression (${(error as Error).message})`, input: ctx.value });
  }
});

const param = z.discriminatedUnion('type', [
  z.object({ type: z.literal('string'), default: z.string() }),
  z.object({ type: z.literal('number'), default: z.number() }),
  z.object({ type: z.literal('boolean'), default: z.boolean() }),
]);

/**
 * The pipeline as the launcher, run monitor and backfill functions know it (`LAUNCHER_ENV.pipeline`).
 * Loose, as the hand checks it replaced were: a field the compiler adds later reaches the functions
 * even before this schema names it, instead of being stripped.
 */
export const launcherConfigSchema = z.looseObject({
  name: z.string().min(1),
  params: z.record(z.string(), param).optional(),
  tasks: z.array(z.object({ name: z.string(), after: z.array(z.string()) }), { error: 'a list of { name, after: [...] }' }),
  maxConcurrentRuns: z.number({ error: 'a whole number of at least 1' }).int('a whole number of at least 1').min(1, 'a whole number of at least 1'),
  partitionsPerRun: z.number().int().min(1).optional(),
  partitions: partitionSpec.optional(),
  schedule: z.object({ cron: z.string(), timezone: z.string() }).optional(),
  upstream: z.array(z.object({ pipeline: z.string(), partitions: partitionSpec.optional(), mapping })).optional(),
  triggers: z.array(
    z.looseObject({
      kind: z.literal('s3Arrival'),
      bucket: z.string(),
      prefix: z.string().optional(),
      suffix: z.string().optional(),
      partitionFromKey: regex.optional(),
    }),
  ),
}) satisfies z.ZodType<LauncherConfig>;

/** Logical bucket name → deployed bucket name (`BUCKETS_ENV`). */
export const bucketNamesSchema = z.record(z.string(), z.string(), { error: 'a JSON object of logical bucket name to deployed bucket name' });

/**
 * One line naming the first problem of a value `schema` refused: where it is, what it holds and
 * what was expected (`has maxConcurrentRuns 0; expected a whole number of at least 1`).
 */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'is not valid';
  const where = issue.path.map((key, index) => (typeof key === 'number' ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`)).join('');
  const shown = JSON.stringify(issue.input)?.slice(0, 200) ?? 'undefined';
  return where === '' ? `is ${shown}; expected ${issue.message}` : `has ${where} ${shown}; expected ${issue.message}`;
}

/**
 * Parses `value` with `schema`, keeping each issue's input for {@link describeIssue}; issues with
 * no message of their own say what was expected in words (`a string`, `one of "a", "b"`).
 */
export function safeParse<T extends z.ZodType>(schema: T, value: unknown): z.ZodSafeParseResult<z.output<T>> {
  return schema.safeParse(value, { reportInput: true, error: expectation });
}

function expectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'object' ? 'a JSON object' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`;
    case 'invalid_value':
      return `${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `at least ${issue.minimum} item(s)` : issue.origin === 'string' ? 'a non-empty text' : `at least ${issue.minimum}`;
    default:
      return undefined;
  }
}

const rerunSelection = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('failed') }),
  z.object({ kind: z.literal('from-task'), task: z.string().min(1) }),
  z.object({ kind: z.literal('tasks'), tasks: z.array(z.string().min(1)).min(1) }),
]);

/**
 * What the launcher is invoked with besides an SQS batch: a Scheduler tick
 * (`scheduledTime` is `<aws.scheduler.scheduled-time>`), a run asked for directly (`sluice
 * run`, a backfill), or a rerun of an ended run (`sluice rerun`).
 */
export const launcherInvocationSchema = z.discriminatedUnion('source', [
  z.object({ source: z.literal('schedule'), scheduledTime: z.iso.datetime({ offset: true }) }),
  z.object({
    source: z.enum(['manual', 'backfill']),
    partition: z.string(),
    /** Run parameters by name, typed or as text; validated against the declared ones. */
    params: z.record(z.string(), z.unknown()).optional(),
  }),
  z.object({ source: z.literal('rerun'), runId: z.string().min(1), selection: rerunSelection.optional() }),
]);

/** Every invocation of the launcher other than an SQS batch. */
export type LauncherInvocation = z.infer<typeof launcherInvocationSchema>;

/** An SQS batch, as Lambda's event source mapping delivers it; each record's body is checked on its own. */
export const sqsBatchSchema = z.looseObject({ Records: z.array(z.looseObject({ messageId: z.string(), body: z.string() })) });

/** The input of the run monitor's reconciliation schedule; `graceMs` only the local runtime sets. */
export const reconcileRequestSchema = z.strictObject({ source: z.literal('reconcile'), graceMs: z.number().min(0).optional() });

/** EventBridge's `Step Functions Execution Status Change`, the fields the run monitor reads. */
export const executionStatusChangeSchema = z.looseObject({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.looseObject({ executionArn: z.string(), status: z.string() }),
});

/**
 * EventBridge's `Object Created` event from S3, the fields a launch needs. The ETag and the
 * sequencer are required: without them an event cannot be told from a redelivery or an
 * identical re-upload.
 */
export const objectCreatedEventSchema = z.object({
  source: z.literal('aws.s3', { error: 'an EventBridge "Object Created" event from aws.s3' }),
  'detail-type': z.literal('Object Created', { error: 'an EventBridge "Object Created" event from aws.s3' }),
  time: z.iso.datetime({ offset: true, error: 'an ISO-8601 instant' }),
  detail: z.object({
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      etag: z.string().min(1, 'an ETag'),
      sequencer: z.string().regex(/^[0-9A-Fa-f]+$/, 'a hexadecimal sequencer'),
      'version-id': z.string().optional(),
    }),
  }),
});
