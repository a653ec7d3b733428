import { cloudWatchMessage } from '../task-log-lines';
import type { TaskLogEntry, TaskLogs } from '../task-logs';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveAwsJson } from './private/aws-json';

/** The local stand-in of CloudWatch Logs, on loopback. */
export interface LocalLogsApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Properties of {@link startLogsApi}. */
export interface LogsApiProps {
  /** The task logs of the local stage. */
  readonly logs: TaskLogs;
  /** The task whose function writes to a log group, by the group's name. */
  readonly taskOfLogGroup: (logGroupName: string) => { readonly pipeline: string; readonly task: string } | undefined;
  readonly environment: { readonly region: string; readonly account: string };
  /** Decides each call against its caller's role. @default - every call is allowed */
  readonly authorize?: RequestAuthorizer;
  readonly port?: number;
}

/**
 * Serves CloudWatch Logs `FilterLogEvents` over the local per-attempt task logs, as a deployed
 * task function writes them: each line its invocation printed, in Lambda's JSON log format (see
 * `cloudWatchMessage`), one log stream per invocation. The filter pattern must be JSON-field
 * equalities joined by `&&` or by `||`, the patterns `sluice logs --stage` sends
 * (`{ $.sluice = "start" && $.runId = "<id>" && $.attempt = 2 }`, `{ $.requestId = "<id>" || ... }`);
 * `startTime`, `endTime` and `logStreamNames` narrow the events as on AWS.
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html
 */
export function startLogsApi(props: LogsApiProps): Promise<LocalLogsApi> {
  const { region, account } = props.environment;
  return serveAwsJson({
    version: '1.1',
    port: props.port ?? 0,
    handle: ({ operation, input, accessKeyId }) => {
      if (operation !== 'FilterLogEvents') {
        return { status: 400, errorType: 'InvalidOperationException', message: `The local CloudWatch Logs API serves FilterLogEvents; got "${operation}"` };
      }
      const group = String(input?.logGroupName ?? '');
      const denial = props.authorize?.({ accessKeyId, action: 'logs:FilterLogEvents', resource: `arn:aws:logs:${region}:${account}:log-group:${group}:*` });
      if (denial) return { status: 400, errorType: 'AccessDeniedException', message: denial };
      const owner = props.taskOfLogGroup(group);
      if (!owner) return { status: 400, errorType: 'ResourceNotFoundException', message: `The specified log group does not exist: ${group}` };
      const pattern = parseFilterPattern(String(input?.filterPattern ?? ''));
      if (!pattern) {
        return {
          status: 400,
          errorType: 'InvalidParameterException',
          message: `the local CloudWatch Logs serves JSON-field equalities joined by && or by ||, { $.<field> = <value> && ... }: not ${JSON.stringify(input?.filterPattern)}`,
        };
      }
      const startTime = typeof input?.startTime === 'number' ? input.startTime : 0;
      const endTime = typeof input?.endTime === 'number' ? input.endTime : Number.POSITIVE_INFINITY;
      const streams = Array.isArray(input?.logStreamNames) ? new Set((input.logStreamNames as unknown[]).map(String)) : undefined;
      // The local logs are kept per run: a pattern naming a run reads that run's, any other the
      // runs written since startTime. Every file is read whole: there is never a next page.
      const runId = pattern.join === '&&' ? pattern.fields.find(([field]) => field === 'runId')?.[1] : undefined;
      const runs = typeof runId === 'string' ? [runId] : props.logs.runsSince(startTime);
      const events = runs.flatMap((run) =>
        props.logs
          .readAll(run)
          .entries.filter((entry) => entry.pipeline === owner.pipeline && entry.task === owner.task)
          .map((entry, index) => event(entry, `${run}/${index}`))
          .filter((e) => e.timestamp >= startTime && e.timestamp <= endTime && (!streams || streams.has(e.logStreamName)) && matches(pattern, e.message)),
      );
      return { output: { events: events.sort((a, b) => a.timestamp - b.timestamp), searchedLogStreams: [] } };
    },
  });
}

function event(entry: TaskLogEntry, eventId: string): { logStreamName: string; timestamp: number; ingestionTime: number; message: string; eventId: string } {
  const time = new Date(entry.time).getTime();
  return {
    logStreamName: `${entry.time.slice(0, 10).replaceAll('-', '/')}/[$LATEST]${entry.requestId.replaceAll('-', '')}`,
    timestamp: time,
    ingestionTime: time,
    message: cloudWatchMessage(entry),
    eventId,
  };
}

/** A filter pattern of JSON-field equalities, all joined by `&&` or all by `||`. */
export interface FieldEqualities {
  readonly join: '&&' | '||';
  readonly fields: readonly (readonly [string, string | number])[];
}

/**
 * `{ $.a = "x" && $.b = 2 }` as `{ join: '&&', fields: [['a', 'x'], ['b', 2]] }`; `undefined` for
 * any other pattern (the local stand-in is not a pattern engine: it serves the patterns sluice
 * sends).
 */
export function parseFilterPattern(pattern: string): FieldEqualities | undefined {
  const body = /^\s*\{(.*)\}\s*$/.exec(pattern)?.[1];
  if (body === undefined) return undefined;
  const join = body.includes('||') ? '||' : '&&';
  if (join === '||' && body.includes('&&')) return undefined;
  const fields: [string, string | number][] = [];
  for (const term of body.split(join)) {
    const match = /^\s*\$\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?))\s*$/.exec(term);
    if (!match) return undefined;
    fields.push([match[1]!, match[2] !== undefined ? (JSON.parse(`"${match[2]}"`) as string) : Number(match[3])]);
  }
  return { join, fields };
}

/** Whether a log event's message matches the pattern: a JSON object with those top-level fields. */
function matches(pattern: FieldEqualities, message: string): boolean {
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(message) as Record<string, unknown>;
  } catch {
    return false;
  }
  const equal = ([field, value]: readonly [string, string | number]) => fields?.[field] === value;
  return pattern.join === '&&' ? pattern.fields.every(equal) : pattern.fields.some(equal);
}
