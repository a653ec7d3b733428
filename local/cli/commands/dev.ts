import { join } from 'node:path';
import { nextFireTimes } from '../../../lib/compile/schedule';
import { readLauncherEnvironment, SLUICE_BUCKETS_ENV } from '../../../orchestration';
import type { ExecutionStatusChangeEvent } from '../../engine';
import type { LocalRuntime, LocalRuntimeProps, RuntimeNotice } from '../../runtime';
import { watchSources } from '../../source-watcher';
import { type CliContext, FUNCTION_LOG, runtimeProps, withRuntime } from '../context';
import { EXIT, UsageError } from '../errors';
import { untilStopped } from '../signals';
import { parseConsolePort, startConsole } from './ui';
import { type DevPrint, Reloader } from '../reloader';
import { causeMessage, describeSchedule, describeTrigger, duration, elapsed, errorLine, status, table } from '../format';

/** Options of `sluice dev`. */
export interface DevOptions {
  /** S3 listens on this port and DynamoDB on the next one. @default - free ports */
  readonly port?: string;
  /** The web console's port on 127.0.0.1. @default - a free port */
  readonly uiPort?: string;
  /** `false` (`--no-ui`) serves no web console. @default true */
  readonly ui?: boolean;
}

/** What `sluice dev` serves, as printed at start (`--json`: one `ready` line). */
export interface DevSummary {
  readonly home: string;
  readonly endpoints: LocalRuntime['endpoints'];
  /** Credentials the local S3 accepts (any for DynamoDB). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The stage's buckets, with the logical name pipelines use, when one does. */
  readonly buckets: readonly { readonly name: string; readonly logical?: string }[];
  readonly triggers: readonly { readonly pipeline: string; readonly bucket: string; readonly pattern: string }[];
  readonly schedules: readonly { readonly pipeline: string; readonly cron: string; readonly timezone: string; readonly next?: string }[];
  readonly functionLog?: string;
  /** The web console's address, with its token. */
  readonly console?: string;
}

/**
 * `sluice dev`: the local services with triggers and schedules, until SIGINT or SIGTERM. Other
 * `sluice` commands on the same `SLUICE_HOME` use its DynamoDB and S3 meanwhile.
 */
export async function dev(context: CliContext, options: DevOptions): Promise<number> {
  const port = parsePort(options.port);
  const uiPort = parseConsolePort(options.uiPort, '--ui-port');
  const print = (notice: Record<string, unknown>, text: string) => {
    if (context.json) context.io.out(`${JSON.stringify({ time: new Date().toISOString(), ...notice })}\n`);
    else context.io.out(`${new Date().toISOString().slice(11, 19)}  ${text}\n`);
  };
  const props: Pick<LocalRuntimeProps, 'sharing' | 'ports' | 'notify'> = {
    sharing: 'announce',
    ports: port === undefined ? undefined : { s3: port, dynamodb: port + 1 },
    notify: (notice) => printNotice(notice, print),
  };
  return withRuntime(
    context,
    async (runtime) => {
      const stopping = untilStopped();
      // Kept until the end: runs that finish while stopping are reported too.
      runtime.engine.onStatusChange((event) => printStatusChange(event, runtime.synth.build, print, context.io.color));
      await runtime.startTriggers();
      const web = options.ui === false ? undefined : await startConsole(context, runtime, uiPort);
      const summary = { ...summarise(context, runtime), console: web?.url };
      if (context.json) context.io.out(`${JSON.stringify({ event: 'ready', ...summary })}\n`);
      else printSummary(context, summary);

      const reloader = new Reloader({
        context,
        initial: runtime,
        runtime: runtimeProps(context, props),
        print,
        console: web?.source,
        onStart: (next) => next.engine.onStatusChange((event) => printStatusChange(event, next.synth.build, print, context.io.color)),
      });
      const unwatch = watchSources({ projectDir: context.projectDir, pipelinesDir: context.pipelinesDir, onChange: () => reloader.request() });
      const signal = await stopping;
      unwatch();
      print({ event: 'stopping', signal }, `${signal}: stopping (waiting for running work)`);
      await web?.stop();
      await reloader.stop();
      return EXIT.ok;
    },
    props,
  );
}

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65534) {
    throw new UsageError(`--port must be a whole number from 1 to 65534 (S3 uses it, DynamoDB the next one), not ${JSON.stringify(value)}`);
  }
  return port;
}

function summarise(context: CliContext, runtime: LocalRuntime): DevSummary {
  const now = new Date();
  const buckets = bucketsOf(runtime);
  const triggers: DevSummary['triggers'][number][] = [];
  const schedules: DevSummary['schedules'][number][] = [];
  for (const pipeline of runtime.pipelines.values()) {
    const { bucketNames } = readLauncherEnvironment(pipeline.launcher.environment);
    for (const trigger of pipeline.config.triggers) {
      triggers.push({ pipeline: pipeline.name, bucket: bucketNames[trigger.bucket]!, pattern: describeTrigger(trigger) });
    }
    const schedule = pipeline.config.schedule;
    if (schedule) schedules.push({ pipeline: pipeline.name, ...schedule, next: nextFireTimes(schedule, now, 1)[0]?.toISOString() });
  }
  const s3Environment = runtime.s3.clientEnvironment;
  return {
    home: context.home,
    endpoints: runtime.endpoints,
    credentials: { accessKeyId: s3Environment.AWS_ACCESS_KEY_ID!, secretAccessKey: s3Environment.AWS_SECRET_ACCESS_KEY! },
    buckets,
    triggers,
    schedules,
    functionLog: context.verbose ? undefined : join(context.home, FUNCTION_LOG),
  };
}

/** Every bucket of the stage, with its logical name as the functions know it (`SLUICE_BUCKETS`). */
function bucketsOf(runtime: LocalRuntime): DevSummary['buckets'] {
  const logical = new Map<string, string>();
  for (const fn of runtime.engine.stage.functions) {
    const names = fn.environment[SLUICE_BUCKETS_ENV];
    if (!names) continue;
    for (const [name, bucket] of Object.entries(JSON.parse(names) as Record<string, string>)) logical.set(bucket, name);
  }
  return runtime.engine.stage.buckets
    .map((bucket) => ({ name: bucket.name, logical: logical.get(bucket.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function printSummary(context: CliContext, summary: DevSummary): void {
  const { io } = context;
  const { endpoints, credentials } = summary;
  io.out(`sluice dev: local services for ${summary.home}\n\n`);
  io.out(
    table(
      ['SERVICE', 'URL'],
      [
        ['S3', `${endpoints.s3}  (path-style; access key ${credentials.accessKeyId}, secret ${credentials.secretAccessKey})`],
        ['DynamoDB', endpoints.dynamodb],
        ['Step Functions', endpoints.stepFunctions],
        ['SNS', endpoints.sns],
        // What a deployed stage's commands call: `sluice <command> --stage local` with these as
        // AWS_ENDPOINT_URL_SSM, _LAMBDA, _SFN, _DYNAMODB, _SCHEDULER, _CLOUDWATCH_LOGS runs the --stage path here.
        ['SSM (stage parameters)', endpoints.ssm],
        ['Lambda', endpoints.lambda],
        ['Scheduler', endpoints.scheduler],
        ['CloudWatch Logs', endpoints.logs],
      ],
    ),
  );
  io.out('\n');
  io.out(table(['BUCKET', 'LOGICAL NAME'], summary.buckets.map((bucket) => [bucket.name, bucket.logical ?? ''])));
  if (summary.triggers.length > 0) {
    io.out('\n');
    io.out(table(['TRIGGER', 'PIPELINE', 'BUCKET NAME'], summary.triggers.map((t) => [t.pattern, t.pipeline, t.bucket])));
  }
  if (summary.schedules.length > 0) {
    io.out('\n');
    io.out(table(['SCHEDULE', 'PIPELINE', 'NEXT'], summary.schedules.map((s) => [describeSchedule(s), s.pipeline, s.next ?? 'never'])));
  }
  if (summary.console) io.out(`\nConsole: ${summary.console}\n`);
  io.out(`\n${summary.functionLog ? `Function logs: ${summary.functionLog}\n` : ''}Ready. Press Ctrl+C to stop.\n`);
}

type Print = DevPrint;

function printNotice(notice: RuntimeNotice, print: Print): void {
  switch (notice.kind) {
    case 'delivered':
      print({ event: 'delivered', rule: notice.rule, target: notice.target }, `event    ${notice.rule} → ${lastSegment(notice.target)}`);
      break;
    case 'dead-lettered':
      print({ event: 'dead-lettered', source: notice.source, reason: notice.reason, file: notice.file }, `DEAD LETTER  ${notice.source}: ${notice.reason} (kept in ${notice.file})`);
      break;
    case 'alert':
      print({ event: 'alert', subject: notice.message.subject, message: notice.message.message }, `ALERT    ${notice.message.subject ?? notice.message.message}`);
      break;
    case 'schedule':
      if (notice.paused) {
        print(
          { event: 'schedule', schedule: notice.schedule, scheduledTime: notice.scheduledTime.toISOString(), paused: true },
          `schedule ${notice.schedule} is paused (pipeline ${notice.paused}): nothing fired for ${notice.scheduledTime.toISOString()}`,
        );
        break;
      }
      print({ event: 'schedule', schedule: notice.schedule, scheduledTime: notice.scheduledTime.toISOString() }, `schedule ${notice.schedule} fired for ${notice.scheduledTime.toISOString()}`);
      break;
    case 'error':
      print({ event: 'error', message: notice.message }, `ERROR    ${notice.message}`);
      break;
    case 'unmatched':
      print(
        { event: 'unmatched', bucket: notice.bucket, key: notice.key },
        `upload   s3://${notice.bucket}/${notice.key} matches no trigger: nothing runs (sluice list shows each pipeline's triggers)`,
      );
      break;
    case 'metric': {
      // The launcher's counters (LAUNCHER_METRICS), as CloudWatch would sum them.
      const { name, pipeline, value, total } = notice.sample;
      print({ event: 'metric', name, pipeline, value, total }, `count    ${pipeline ?? '-'}  ${name} +${value} (total ${total})`);
      break;
    }
  }
}

function printStatusChange(event: ExecutionStatusChangeEvent, build: string, print: Print, color: boolean): void {
  const { detail } = event;
  let input: { pipeline?: string; partition?: string; trigger?: string } = {};
  try {
    input = JSON.parse(detail.input) as typeof input;
  } catch {
    // Not a pipeline run (no run input): print what there is.
  }
  const what = `${input.pipeline ?? lastSegment(detail.stateMachineArn)}  ${input.partition ?? ''}  run ${detail.name}`;
  const notice = { event: 'run', status: detail.status, pipeline: input.pipeline, partition: input.partition, runId: detail.name, trigger: input.trigger, build };
  if (detail.status === 'RUNNING') {
    print(notice, `run      ${what} started (${input.trigger ?? 'unknown trigger'}) on build ${build}`);
    return;
  }
  const took = duration(elapsed(new Date(detail.startDate).toISOString(), detail.stopDate ? new Date(detail.stopDate).toISOString() : undefined));
  const error = detail.error ? errorLine(detail.error, causeMessage(detail.cause ?? undefined)) : undefined;
  print({ ...notice, error: detail.error, errorMessage: causeMessage(detail.cause ?? undefined) }, `run      ${what} ${status(detail.status, color)} in ${took}${error ? `: ${error}` : ''}`);
}

function lastSegment(arn: string): string {
  return arn.split(':').pop() ?? arn;
}
