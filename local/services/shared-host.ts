import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { http } from '../node-http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { processExists } from '../process';
import { writeFileAtomic } from '../state-files';
import { startDynamo } from './dynamodb';
import { closeServer, listen } from './private/loopback';
import { startS3 } from './s3';

/** The file in `SLUICE_HOME` where the shared services process announces its endpoints. */
export const SERVICES_FILE = 'services.json';
/** The folder in `SLUICE_HOME` where each process using the shared services holds a lease. */
export const LEASES_DIR = 'services.leases';
/** What the shared services process prints (its own errors). */
export const SERVICES_LOG = 'services.log';

/** What the shared services process writes to {@link SERVICES_FILE}. */
export interface ServicesAnnouncement {
  /** The services process; the file is stale once it is gone. */
  readonly pid: number;
  readonly endpoints: {
    readonly s3: string;
    readonly dynamodb: string;
    /**
     * `GET` streams S3 `Object Created` events as server-sent events, one JSON event per message,
     * numbered by `id`; `GET <objectCreated>/last` answers the number of the last one sent.
     */
    readonly objectCreated: string;
  };
  /** Environment of SDK clients of the S3 endpoint (see `LocalS3.clientEnvironment`). */
  readonly s3ClientEnvironment: Readonly<Record<string, string>>;
  /** What was repaired in the local state as the services started, to be reported. */
  readonly repaired?: string;
}

/** Properties of {@link hostSharedServices}. */
export interface HostSharedServicesProps {
  /** The `SLUICE_HOME` whose DynamoDB (`dynamodb/`) and S3 (`s3/`) data are served. */
  readonly home: string;
  /** Fixed ports; 0 picks free ones. @default - free ports */
  readonly ports?: { readonly s3?: number; readonly dynamodb?: number };
  /** How long the services run once no process holds a lease. */
  readonly idleMs: number;
}

/**
 * Serves the DynamoDB and S3 of one `SLUICE_HOME` for every sluice process on it: dynalite's
 * LevelDB store can be open in one process only, so one process owns it and the commands (any
 * number at once, `sluice dev` among them) attach to its endpoints. Each attached process holds
 * a lease (a file named by its pid under {@link LEASES_DIR}); when no live process has held one
 * for `idleMs`, the announcement is withdrawn and the services stop. A lease taken just as the
 * announcement is withdrawn is seen by the second look, and the services go on.
 *
 * Resolves when the services have stopped.
 */
export async function hostSharedServices(props: HostSharedServicesProps): Promise<void> {
  const { home } = props;
  const dynamo = await startDynamo({ dataDir: join(home, 'dynamodb'), port: props.ports?.dynamodb });
  const s3 = await startS3({ dataDir: join(home, 's3'), port: props.ports?.s3, buckets: [] });
  const subscribers = new Set<ServerResponse>();
  let sent = 0;
  const events = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/object-created/last') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ last: sent }));
      return;
    }
    if (request.method !== 'GET' || request.url !== '/object-created') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    // The id of the last event sent before this subscription: a subscriber waiting for `last`
    // (a flush) must not wait for events that went to the subscribers of a process now gone.
    response.write(`: subscribed\nid: ${sent}\n\n`);
    subscribers.add(response);
    request.once('close', () => subscribers.delete(response));
  });
  await listen(events, 0);
  s3.onObjectCreated((event) => {
    // Sent before the upload's response, so an uploader asking for `last` afterwards counts it.
    const message = `id: ${++sent}\ndata: ${JSON.stringify(event)}\n\n`;
    for (const subscriber of subscribers) subscriber.write(message);
  });

  const announcement: ServicesAnnouncement = {
    pid: process.pid,
    endpoints: { s3: s3.endpoint, dynamodb: dynamo.endpoint, objectCreated: `http://127.0.0.1:${(events.address() as AddressInfo).port}/object-created` },
    s3ClientEnvironment: s3.clientEnvironment,
    ...(dynamo.repaired && { repaired: dynamo.repaired }),
  };
  const file = join(home, SERVICES_FILE);
  const announce = () => writeFileAtomic(file, JSON.stringify(announcement, null, 2));
  const withdraw = () => {
    if (ownAnnouncement(file)) rmSync(file, { force: true });
  };
  announce();

  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  process.once('SIGTERM', () => stop());
  process.once('SIGINT', () => stop());
  let busySince = Date.now();
  const watch = setInterval(() => {
    // A removed home (a test's temporary folder) or a removed or replaced announcement: nothing to serve.
    if (!existsSync(home) || !ownAnnouncement(file)) return stop();
    if (liveLeases(home) > 0 || subscribers.size > 0) {
      busySince = Date.now();
      return;
    }
    if (Date.now() - busySince < props.idleMs) return;
    withdraw();
    if (liveLeases(home) > 0) announce();
    else stop();
  }, 100);

  await stopped;
  clearInterval(watch);
  withdraw();
  for (const subscriber of subscribers) subscriber.end();
  events.closeAllConnections();
  await Promise.allSettled([closeServer(events), s3.stop(), dynamo.stop()]);
}

function ownAnnouncement(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as ServicesAnnouncement).pid === process.pid;
  } catch {
    return false;
  }
}

/** Counts the leases of live processes, removing those of processes that are gone. */
export function liveLeases(home: string): number {
  const dir = join(home, LEASES_DIR);
  let live = 0;
  let leases: string[] = [];
  try {
    leases = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const lease of leases) {
    const pid = Number(lease.split('-')[0]);
    if (Number.isInteger(pid) && processExists(pid)) live++;
    else rmSync(join(dir, lease), { force: true });
  }
  return live;
}

/** Takes a lease on the shared services of `home` for this process; returns its release. */
export function takeLease(home: string): () => void {
  const dir = join(home, LEASES_DIR);
  mkdirSync(dir, { recursive: true });
  const lease = join(dir, `${process.pid}-${Math.random().toString(36).slice(2, 10)}`);
  writeFileAtomic(lease, '');
  return () => rmSync(lease, { force: true });
}
