import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../node-http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen } from '../services/private/loopback';
import { describeError, EXIT, exitCodeOf } from '../cli/errors';
import { bundleConsoleApp } from './assets';
import { NotFoundError } from './local-source';
import type { ConsoleSource } from './source';
import type { BackfillOnlyView, ChangeEvent, RerunSelectionView } from './views';

/** Properties of {@link startConsoleServer}. */
export interface ConsoleServerProps {
  readonly source: ConsoleSource;
  /** Port on 127.0.0.1; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** The access token. @default - 32 random bytes, new at every start */
  readonly token?: string;
  /** Receives errors of requests that failed inside the server (a bug, or a service down). @default - ignored */
  readonly onError?: (error: unknown) => void;
}

/** A running console. */
export interface ConsoleServer {
  /** The console's address with its token: what the user opens. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  stop(): Promise<void>;
}

/** Header that carries the token on API requests (the page's own requests send it). */
export const TOKEN_HEADER = 'x-sluice-token';

/** Thrown for a request the API cannot accept (bad body, bad parameter): answered with 400. */
class BadRequestError extends Error {}

const SSE_HEARTBEAT_MS = 15_000;
/** Largest request body accepted: actions carry a few fields. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * The web console's HTTP server: Node's own `http`, on 127.0.0.1 only. Every request must carry
 * the per-start random token (`?token=` in the URL the user opens and in the page's script and
 * event-stream addresses; the `x-sluice-token` header on API calls), so no other page in the
 * browser can read data or start runs. Actions are POSTs with a JSON body and the header, which
 * a cross-origin page cannot send without a CORS preflight, and the server answers no
 * preflight. The Host header must name the loopback address (no DNS rebinding).
 */
export async function startConsoleServer(props: ConsoleServerProps): Promise<ConsoleServer> {
  const token = props.token ?? randomBytes(32).toString('base64url');
  const assets = await bundleConsoleApp();
  const streams = new Set<ServerResponse>();
  let port = 0;

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = httpStatusOf(error);
      if (status === 500) props.onError?.(error);
      // Bad input is answered with the line the CLI prints for the same mistake.
      const message = status === 400 && !(error instanceof BadRequestError) ? describeError(error) : ((error as Error).message ?? String(error));
      if (!response.headersSent) sendJson(response, status, { error: message });
      else response.end();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    const host = request.headers.host ?? '';
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) return sendJson(response, 403, { error: `Host ${host} is not this console` });
    const presented = request.method === 'POST' ? request.headers[TOKEN_HEADER] : (request.headers[TOKEN_HEADER] ?? url.searchParams.get('token'));
    if (typeof presented !== 'string' || !sameToken(presented, token)) {
      return sendJson(response, 403, { error: 'Missing or wrong token: open the URL sluice ui printed (it carries ?token=...)' });
    }
    if (request.method === 'POST') return post(url, request, response);
    if (request.method !== 'GET') return sendJson(response, 405, { error: `${request.method} is not allowed` });
    return get(url, request, response);
  }

  async function get(url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    const now = new Date();
    const path = segments(url.pathname);
    const { source } = props;
    if (path.length === 0) return sendAsset(response, 'text/html; charset=utf-8', assets.html(token));
    if (path.length === 1 && path[0] === 'app.js') return sendAsset(response, 'text/javascript; charset=utf-8', assets.script);
    if (path.length === 1 && path[0] === 'app.css') return sendAsset(response, 'text/css; charset=utf-8', assets.style);
    if (path[0] !== 'api') return sendJson(response, 404, { error: `No page ${url.pathname}` });
    const [, resource, name, sub, key] = path;
    if (resource === 'events' && path.length === 2) return stream(request, response);
    if (resource === 'overview' && path.length === 2) return sendJson(response, 200, await source.overview(now));
    if (resource === 'backfills' && path.length === 2) return sendJson(response, 200, await source.backfills());
    if (resource === 'pipelines' && name !== undefined) {
      if (path.length === 3) return sendJson(response, 200, await source.pipeline(name, now));
      if (sub === 'partitions' && path.length === 4) {
        const range = { from: url.searchParams.get('from') ?? undefined, to: url.searchParams.get('to') ?? undefined };
        const grid = await source.partitions(name, range, now);
        // The keys of a range are listed once and kept (the same array): so is their JSON, which
        // takes the place of a placeholder no other field can hold (JSON escapes NUL).
        const text = JSON.stringify({ ...grid, keys: KEYS_PLACEHOLDER }).replace(JSON.stringify(KEYS_PLACEHOLDER), () => jsonOf(grid.keys));
        return sendJson(response, 200, text);
      }
      if (sub === 'partitions' && key !== undefined && path.length === 5) return sendJson(response, 200, await source.partition(name, key));
      if (sub === 'runs' && key !== undefined && path.length === 5) return sendJson(response, 200, await source.run(name, key));
      if (sub === 'backfills' && path.length === 4) return sendJson(response, 200, await source.backfills(name));
      if (sub === 'backfills' && key !== undefined && path.length === 5) return sendJson(response, 200, await source.backfill(name, key));
    }
    return sendJson(response, 404, { error: `No API ${url.pathname}` });
  }

  async function post(url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return sendJson(response, 415, { error: 'Actions take a JSON body (Content-Type: application/json)' });
    }
    const body = await readJson(request);
    const [api, resource, name, action, id, verb] = segments(url.pathname);
    const { source } = props;
    if (api !== 'api' || resource !== 'pipelines' || name === undefined) return sendJson(response, 404, { error: `No action ${url.pathname}` });
    if (action === 'runs' && id === undefined) {
      const partition = body.partition;
      if (typeof partition !== 'string' || partition === '') throw new BadRequestError('Give the partition to run: {"partition": "2024-01-01"}');
      return sendJson(response, 202, await source.launch(name, partition, paramsOf(body.params)));
    }
    if (action === 'runs' && id !== undefined && verb === 'rerun') return sendJson(response, 202, await source.rerun(name, id, selectionOf(body.selection)));
    if (action === 'backfills' && id === undefined) {
      const { from, to, only, concurrency, yes } = body;
      return sendJson(
        response,
        202,
        await source.startBackfill(name, {
          from: optional(from, 'string', 'from'),
          to: optional(to, 'string', 'to'),
          only: optional(only, 'string', 'only') as BackfillOnlyView | undefined,
          concurrency: optional(concurrency, 'number', 'concurrency'),
          yes: optional(yes, 'boolean', 'yes'),
        }),
      );
    }
    if (action === 'backfills' && id !== undefined && verb === 'cancel') {
      const mode = body.mode ?? 'finish';
      if (mode !== 'finish' && mode !== 'stop') throw new BadRequestError(`mode must be "finish" (runs in flight finish) or "stop" (they are stopped), not ${JSON.stringify(mode)}`);
      return sendJson(response, 200, await source.cancelBackfill(name, id, mode));
    }
    if (action === 'schedule' && id === undefined) {
      const state = body.state;
      if (state !== 'ENABLED' && state !== 'PAUSED') throw new BadRequestError(`state must be "PAUSED" or "ENABLED", not ${JSON.stringify(state)}`);
      await source.setSchedule(name, state);
      return sendJson(response, 200, { pipeline: name, state });
    }
    return sendJson(response, 404, { error: `No action ${url.pathname}` });
  }

  /** Server-sent events: `change` whenever the source reports one, and a heartbeat comment. */
  function stream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write('retry: 1000\n\n');
    streams.add(response);
    const send = (event: ChangeEvent) => response.write(`event: change\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = props.source.watch(send);
    const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
    request.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(response);
    });
  }

  await listen(server, props.port ?? 0);
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/?token=${token}`,
    port,
    token,
    stop: async () => {
      for (const response of streams) response.end();
      server.closeAllConnections();
      await closeServer(server);
    },
  };
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The token is in the page's URL: never send it to another site.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};

/** Sends `body` as JSON; a string is taken as JSON already. */
function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(typeof body === 'string' ? body : JSON.stringify(body));
}

function sendAsset(response: ServerResponse, type: string, body: string): void {
  response.writeHead(200, { ...SECURITY_HEADERS, 'content-type': type, 'cache-control': 'no-store' });
  response.end(body);
}

const KEYS_PLACEHOLDER = '\u0000keys';
const serialized = new WeakMap<object, string>();

/** The JSON of `value`, serialized once per object (for objects never changed once made). */
function jsonOf(value: object): string {
  let json = serialized.get(value);
  if (json === undefined) {
    json = JSON.stringify(value);
    serialized.set(value, json);
  }
  return json;
}

function segments(pathname: string): string[] {
  return pathname
    .split('/')
    .filter(Boolean)
    .map((segment) => decodeURIComponent(segment));
}

function sameToken(presented: string, token: string): boolean {
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BadRequestError(`The request body is over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new BadRequestError(`The request body must be a JSON object: ${(error as Error).message}`);
  }
}

/** 404 for what the stage does not have, 400 for bad input (as the CLI's exit 2), 500 otherwise. */
function httpStatusOf(error: unknown): number {
  if (error instanceof NotFoundError) return 404;
  if (error instanceof BadRequestError || exitCodeOf(error) === EXIT.usage) return 400;
  // The launcher refused the launch: the request's doing, whatever its reason.
  if (error instanceof Error && error.name === 'LaunchRejectedError') return 400;
  return 500;
}

function optional<T extends 'string' | 'number' | 'boolean'>(
  value: unknown,
  type: T,
  field: string,
): (T extends 'string' ? string : T extends 'number' ? number : boolean) | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== type) throw new BadRequestError(`${field} must be a ${type}, not ${JSON.stringify(value)}`);
  return value as never;
}

/** Run parameters as a form sends them: name → text (or a typed JSON value). */
function paramsOf(value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new BadRequestError('params must be an object of name: value');
  return value as Record<string, unknown>;
}

function selectionOf(value: unknown): RerunSelectionView {
  const selection = (value ?? { kind: 'failed' }) as Record<string, unknown>;
  if (selection.kind === 'failed') return { kind: 'failed' };
  if (selection.kind === 'from-task' && typeof selection.task === 'string') return { kind: 'from-task', task: selection.task };
  if (selection.kind === 'tasks' && Array.isArray(selection.tasks) && selection.tasks.length > 0 && selection.tasks.every((t) => typeof t === 'string')) {
    return { kind: 'tasks', tasks: selection.tasks as string[] };
  }
  throw new BadRequestError('selection must be {"kind":"failed"}, {"kind":"from-task","task":"<task>"} or {"kind":"tasks","tasks":["<task>",...]}');
}
