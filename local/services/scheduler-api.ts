import { isDeepStrictEqual } from 'node:util';
import type { LocalSchedule } from '../engine/local-stage';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveRestJson } from './private/rest-json';

/** The local stand-in of the EventBridge Scheduler API, on loopback. */
export interface LocalSchedulerApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_SCHEDULER`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** A schedule's state as Scheduler names it. */
export type SchedulerState = 'ENABLED' | 'DISABLED';

/** Properties of {@link startSchedulerApi}. */
export interface SchedulerApiProps {
  /** The stage's schedules, as the template declares them. */
  readonly schedules: readonly LocalSchedule[];
  /** A schedule's state: locally, the pause state of the pipeline it launches. */
  readonly state: (schedule: LocalSchedule) => Promise<SchedulerState>;
  readonly setState: (schedule: LocalSchedule, state: SchedulerState) => Promise<void>;
  /** Decides each call against its caller's role. @default - every call is allowed */
  readonly authorize?: RequestAuthorizer;
  readonly port?: number;
}

/**
 * Serves Scheduler `GetSchedule` and `UpdateSchedule` for the stage's schedules, so that
 * `sluice pause --stage` runs unchanged against the local runtime. The state is the local pause
 * state (see `ScheduleStates`), which the local scheduler obeys.
 *
 * `UpdateSchedule` replaces the whole schedule on AWS: a field left out of the request is reset.
 * The local stand-in changes only `State`, and refuses an update whose other fields differ from
 * the schedule's, so a caller that would reset them on AWS fails here first.
 *
 * @see https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html
 */
export function startSchedulerApi(props: SchedulerApiProps): Promise<LocalSchedulerApi> {
  return serveRestJson({
    port: props.port ?? 0,
    handle: async ({ method, segments, query, body, accessKeyId }) => {
      const [collection, name] = segments;
      const group = method === 'GET' ? (query.get('groupName') ?? 'default') : undefined;
      if (collection !== 'schedules' || name === undefined || (method !== 'GET' && method !== 'PUT')) {
        return { status: 400, errorType: 'ValidationException', message: `The local Scheduler API serves GetSchedule and UpdateSchedule; got ${method} /${segments.join('/')}` };
      }
      const request = method === 'PUT' ? (JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>) : {};
      const groupName = group ?? (typeof request.GroupName === 'string' ? request.GroupName : 'default');
      const schedule = props.schedules.find((s) => s.name === name && groupOf(s) === groupName);
      if (!schedule) return { status: 404, errorType: 'ResourceNotFoundException', message: `Schedule ${name} does not exist.` };
      const action = method === 'GET' ? 'scheduler:GetSchedule' : 'scheduler:UpdateSchedule';
      const denial = props.authorize?.({ accessKeyId, action, resource: schedule.arn });
      if (denial) return { status: 403, errorType: 'AccessDeniedException', message: denial };
      const described = describe(schedule, await props.state(schedule));
      if (method === 'GET') return { output: described };

      for (const field of ['ScheduleExpression', 'ScheduleExpressionTimezone', 'FlexibleTimeWindow', 'Target', 'Description', 'StartDate', 'EndDate'] as const) {
        const sent = request[field] ?? undefined;
        if (!isDeepStrictEqual(sent, described[field])) {
          return {
            status: 400,
            errorType: 'ValidationException',
            message: `the local Scheduler changes only a schedule's State: ${field} ${JSON.stringify(sent)} differs from the schedule's ${JSON.stringify(described[field])} (UpdateSchedule replaces every field: send them all)`,
          };
        }
      }
      if (request.State !== 'ENABLED' && request.State !== 'DISABLED') {
        return { status: 400, errorType: 'ValidationException', message: `State must be ENABLED or DISABLED, not ${JSON.stringify(request.State)}` };
      }
      await props.setState(schedule, request.State);
      return { output: { ScheduleArn: schedule.arn } };
    },
  });
}

function groupOf(schedule: LocalSchedule): string {
  return /:schedule\/([^/]+)\//.exec(schedule.arn)?.[1] ?? 'default';
}

/** GetSchedule's answer, from the template's schedule (dates in epoch seconds, as restJson1 sends them). */
function describe(schedule: LocalSchedule, state: SchedulerState): Record<string, unknown> {
  const target = schedule.target.properties;
  return {
    Arn: schedule.arn,
    Name: schedule.name,
    GroupName: groupOf(schedule),
    ScheduleExpression: schedule.scheduleExpression,
    ScheduleExpressionTimezone: schedule.timezone,
    State: state,
    FlexibleTimeWindow:
      schedule.flexibleWindowMinutes === undefined ? { Mode: 'OFF' } : { Mode: 'FLEXIBLE', MaximumWindowInMinutes: schedule.flexibleWindowMinutes },
    Target: target,
    ...(typeof schedule.description === 'string' && { Description: schedule.description }),
    ...(schedule.startDate !== undefined && { StartDate: new Date(schedule.startDate).getTime() / 1000 }),
    ...(schedule.endDate !== undefined && { EndDate: new Date(schedule.endDate).getTime() / 1000 }),
  };
}
