import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { serveOnLoopback } from './private/loopback';

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
export async function startEventBridgeApi(props: { onEvent: (event: PutEvent) => void; port?: number }): Promise<LocalEventBridgeApi> {
  const server = createServer((request, response) => {
    void handle(request, response);
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const send = (status: number, body: unknown, errorType?: string) => {
      response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...(errorType && { 'x-amzn-errortype': errorType }) });
      response.end(JSON.stringify(body));
    };
    const target = String(request.headers['x-amz-target'] ?? '');
    if (target !== 'AWSEvents.PutEvents') {
      send(400, { __type: 'UnknownOperationException', message: `The local EventBridge API serves PutEvents only; got "${target}"` }, 'UnknownOperationException');
      return;
    }
    let entries: Record<string, unknown>[];
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: unknown };
      if (!Array.isArray(body.Entries) || body.Entries.length === 0 || body.Entries.length > MAX_ENTRIES) {
        throw new Error(`Entries must hold 1 to ${MAX_ENTRIES} entries`);
      }
      entries = body.Entries as Record<string, unknown>[];
    } catch (error) {
      send(400, { __type: 'ValidationException', message: (error as Error).message }, 'ValidationException');
      return;
    }
    const results = entries.map((entry) => {
      const failed = entryProblem(entry);
      if (failed) return { ErrorCode: 'InvalidArgument', ErrorMessage: failed };
      const bus = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
      const event: PutEvent = {
        id: randomUUID(),
        eventBusName: bus.startsWith('arn:') ? bus.slice(bus.indexOf(':event-bus/') + ':event-bus/'.length) : bus,
        source: String(entry.Source),
        detailType: String(entry.DetailType),
        detail: JSON.parse(String(entry.Detail)) as Record<string, unknown>,
        time: typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(),
        resources: Array.isArray(entry.Resources) ? entry.Resources.map(String) : [],
      };
      props.onEvent(event);
      return { EventId: event.id };
    });
    send(200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results });
  }

  const served = await serveOnLoopback(server, props.port ?? 0);
  return {
    ...served,
  };
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
