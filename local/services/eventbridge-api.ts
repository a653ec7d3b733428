import { randomUUID } from 'node:crypto';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveAwsJson } from './private/aws-json';

/** An event put on a bus, as PutEvents received it. */
export interface PutEvent {
  readonly id: string;
  /** The bus's name (an ARN in the request is reduced to its name); `default` when none was given. */
  readonly eventBusName: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: Record<string, unknown>;
  readonly time: Date;
  readonly resources: readonly string[];
}

/** An EventBridge API endpoint on loopback. */
export interface LocalEventBridgeApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_EVENTBRIDGE`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** PutEvents takes at most 10 entries per call. */
const MAX_ENTRIES = 10;
/** And at most 256 KB of entries. */
const MAX_ENTRY_BYTES = 256 * 1024;

/**
 * Serves EventBridge `PutEvents` (AWS JSON 1.1 protocol) so that the run monitor's own bundle,
 * with an unmodified `EventBridgeClient`, publishes its partition events locally: each valid
 * entry goes to `onEvent` (the local event router), an invalid one is reported as a failed
 * entry as EventBridge reports it.
 *
 * @see https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html
 */
export async function startEventBridgeApi(props: {
  onEvent: (event: PutEvent) => void;
  port?: number;
  /** Decides each entry against its caller's role (`events:PutEvents` on its bus). @default - every call is allowed */
  authorize?: RequestAuthorizer;
  /** Where the buses are, for their ARNs. @default - us-east-1, account 000000000000 */
  environment?: { readonly region: string; readonly account: string };
}): Promise<LocalEventBridgeApi> {
  const { region, account } = props.environment ?? { region: 'us-east-1', account: '000000000000' };
  return serveAwsJson({
    version: '1.1',
    port: props.port ?? 0,
    handle: ({ operation, input, accessKeyId }) => {
      if (operation !== 'PutEvents') {
        return { status: 400, errorType: 'UnknownOperationException', message: `The local EventBridge API serves PutEvents only; got "${operation}"` };
      }
      const entries = input?.Entries;
      if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
        return { status: 400, errorType: 'ValidationException', message: `Entries must hold 1 to ${MAX_ENTRIES} entries` };
      }
      const results = (entries as Record<string, unknown>[]).map((entry) => {
        const failed = entryProblem(entry);
        if (failed) return { ErrorCode: 'InvalidArgument', ErrorMessage: failed };
        const bus = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
        const eventBusName = bus.startsWith('arn:') ? bus.slice(bus.indexOf(':event-bus/') + ':event-bus/'.length) : bus;
        // EventBridge decides each entry on its own bus, and reports a denied one as a failed entry.
        const denial = props.authorize?.({ accessKeyId, action: 'events:PutEvents', resource: `arn:aws:events:${region}:${account}:event-bus/${eventBusName}` });
        if (denial) return { ErrorCode: 'AccessDeniedException', ErrorMessage: denial };
        const event: PutEvent = {
          id: randomUUID(),
          eventBusName,
          source: String(entry.Source),
          detailType: String(entry.DetailType),
          detail: JSON.parse(String(entry.Detail)) as Record<string, unknown>,
          time: typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(),
          resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
        };
        props.onEvent(event);
        return { EventId: event.id };
      });
      return { output: { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results } };
    },
  });
}

function entryProblem(entry: Record<string, unknown>): string | undefined {
  if (typeof entry.Source !== 'string' || entry.Source === '') return 'Parameter Source is not valid.';
  if (entry.Source.startsWith('aws.')) return `Parameter Source ${entry.Source} is reserved for AWS services.`;
  if (typeof entry.DetailType !== 'string' || entry.DetailType === '') return 'Parameter DetailType is not valid.';
  if (typeof entry.Detail !== 'string') return 'Parameter Detail is not valid.';
  if (Buffer.byteLength(JSON.stringify(entry)) > MAX_ENTRY_BYTES) return 'Total size of the entries in the request is over the limit.';
  try {
    const detail = JSON.parse(entry.Detail) as unknown;
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return 'Detail is malformed: it must be a JSON object.';
  } catch {
    return 'Detail is malformed.';
  }
  return undefined;
}
