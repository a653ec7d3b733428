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
 * Serves CloudWatch Logs `FilterLogEvents` over the local per-attempt task logs: each stored
 * line is a log event whose message is the structured JSON line (time, pipeline, partition, run
 * id, task, attempt, request id, stream, message). The filter pattern must be the JSON-field
 * equalities `sluice logs --stage` sends, `{ $.runId = "<id>" && $.attempt = 2 }`, and must name
 * the run: the local logs are kept per run.
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
      const fields = parseFieldEqualities(String(input?.filterPattern ?? ''));
      if (!fields || typeof fields.runId !== 'string') {
        return {
          status: 400,
          errorType: 'InvalidParameterException',
          message: `the local CloudWatch Logs reads a run's lines: filterPattern must be { $.runId = "<run id>" [&& $.<field> = <value>]... }, not ${JSON.stringify(input?.filterPattern)}`,
        };
      }
      // The run's file is read whole: there is never a next page (no nextToken).
      const { entries } = props.logs.read(fields.runId);
      const matching = entries.filter(
        (entry) =>
          entry.pipeline === owner.pipeline &&
          entry.task === owner.task &&
          Object.entries(fields).every(([field, value]) => (entry as unknown as Record<string, unknown>)[field] === value),
      );
      return {
        output: {
          events: matching.map((entry, index) => event(entry, index)),
          searchedLogStreams: [],
        },
      };
    },
  });
}

function event(entry: TaskLogEntry, index: number): Record<string, unknown> {
  const time = new Date(entry.time).getTime();
  return {
    logStreamName: `${entry.time.slice(0, 10).replaceAll('-', '/')}/[$LATEST]${entry.requestId.replaceAll('-', '')}`,
    timestamp: time,
    ingestionTime: time,
    message: JSON.stringify(entry),
    eventId: String(index),
  };
}

/**
 * `{ $.a = "x" && $.b = 2 }` as `{ a: 'x', b: 2 }`; `undefined` for any other pattern (the
 * local stand-in is not a pattern engine: it serves the patterns sluice sends).
 */
export function parseFieldEqualities(pattern: string): Record<string, string | number> | undefined {
  const body = /^\s*\{(.*)\}\s*$/.exec(pattern)?.[1];
  if (body === undefined) return undefined;
  const fields: Record<string, string | number> = {};
  for (const term of body.split('&&')) {
    const match = /^\s*\$\.([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(-?\d+(?:\.\d+)?))\s*$/.exec(term);
    if (!match) return undefined;
    fields[match[1]!] = match[2] !== undefined ? (JSON.parse(`"${match[2]}"`) as string) : Number(match[3]);
  }
  return fields;
}
