import type { ChangeEvent } from '../views';

/** The access token, from the address the user opened (`?token=...`). */
export const token = new URLSearchParams(location.search).get('token') ?? '';

/** Thrown for an API answer that is not 2xx, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function parse<T>(response: Response): Promise<T> {
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? response.statusText);
  return body;
}

/** GET an API resource: `get('/api/overview')`. */
export async function get<T>(path: string): Promise<T> {
  return parse<T>(await fetch(path, { headers: { 'x-sluice-token': token } }));
}

/** POST an action with a JSON body. */
export async function post<T>(path: string, body: unknown): Promise<T> {
  return parse<T>(await fetch(path, { method: 'POST', headers: { 'x-sluice-token': token, 'content-type': 'application/json' }, body: JSON.stringify(body) }));
}

/** `/api/pipelines/a%2Fb/...`: path segments escaped. */
export function path(...segments: string[]): string {
  return `/${segments.map(encodeURIComponent).join('/')}`;
}

type Listener = (event: ChangeEvent) => void;
const listeners = new Set<Listener>();
let source: EventSource | undefined;

/** Subscribes to the server's change events (one EventSource for the page); returns the unsubscribe. */
export function onChange(listener: Listener): () => void {
  if (!source) {
    source = new EventSource(`/api/events?token=${encodeURIComponent(token)}`);
    source.addEventListener('change', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as ChangeEvent;
      for (const l of listeners) l(event);
    });
  }
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the change stream is connected, for the header's live indicator. */
export function isLive(): boolean {
  return source?.readyState === EventSource.OPEN;
}
