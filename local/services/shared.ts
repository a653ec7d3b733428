import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { http } from '../node-http';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { processExists } from '../process';
import { tryLock } from '../state-files';
import { dynamoClients, type LocalDynamo } from './dynamodb';
import { type LocalS3, type ObjectCreatedEvent, type ObjectCreatedListener, s3ClientFor } from './s3';
import { SERVICES_FILE, SERVICES_LOG, type ServicesAnnouncement, takeLease } from './shared-host';
import { packageFile } from '../../lib/package-files';

/** Properties of {@link useSharedServices}. */
export interface UseSharedServicesProps {
  readonly home: string;
  /**
   * Ports for services this call starts; services already running elsewhere must use them.
   * @default - free ports
   */
  readonly ports?: { readonly s3?: number; readonly dynamodb?: number };
  /**
   * How long services started by this call run once no process uses them.
   * @default - `$SLUICE_SERVICES_IDLE_MS`, else 30 s
   */
  readonly idleMs?: number;
}

/** The DynamoDB and S3 of a home, served by its shared services process, for this process. */
export interface SharedServices {
  readonly dynamo: LocalDynamo;
  readonly s3: LocalS3;
  /** The services process. */
  readonly pid: number;
  /** What was repaired in the local state as the services started, if this call started them. */
  readonly repaired?: string;
  /** Gives up this process's lease and closes its clients; the services stop once idle. */
  release(): Promise<void>;
}

/** Thrown when the running services of a home do not listen on the ports asked for. */
export class ServicesPortsError extends Error {
  constructor(home: string, announced: ServicesAnnouncement) {
    super(
      `The local services of ${home} already run (pid ${announced.pid}) with S3 on ${announced.endpoints.s3} and DynamoDB on ${announced.endpoints.dynamodb}: ` +
        'omit --port, or stop the other sluice commands of this SLUICE_HOME first',
    );
    this.name = 'ServicesPortsError';
  }
}

/** Thrown when the shared services process could not start. */
export class ServicesStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServicesStartError';
  }
}

const LOCK_FILE = 'services.lock';
const CLI = packageFile('bin/sluice.js');
const DEFAULT_IDLE_MS = 30_000;

/**
 * The DynamoDB and S3 of `home` for this process: those of the home's shared services process,
 * started in the background (detached: it outlives this process) when none runs. Any number of
 * processes may call this at once; one of them starts the services, the others wait for its
 * announcement. See {@link hostSharedServices}.
 */
export async function useSharedServices(props: UseSharedServicesProps): Promise<SharedServices> {
  const { home } = props;
  // Taken before looking, so that services about to stop for idleness see it and go on.
  const release = takeLease(home);
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const live = await findLiveServices(home);
      if (live) return attach(props, live, release, false);
      const unlock = tryLock(join(home, LOCK_FILE));
      if (unlock) {
        try {
          const again = await findLiveServices(home);
          return again ? attach(props, again, release, false) : attach(props, await startServices(props), release, true);
        } finally {
          unlock();
        }
      }
      if (Date.now() > deadline) throw new ServicesStartError(`The local services of ${home} did not start within a minute: see ${join(home, SERVICES_LOG)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } catch (error) {
    release();
    throw error;
  }
}

/** The home's live services, if any: announced by a process that exists and accepts connections. */
export async function findLiveServices(home: string): Promise<ServicesAnnouncement | undefined> {
  let announced: ServicesAnnouncement;
  try {
    announced = JSON.parse(readFileSync(join(home, SERVICES_FILE), 'utf8')) as ServicesAnnouncement;
  } catch {
    return undefined;
  }
  if (!Number.isInteger(announced.pid) || !processExists(announced.pid)) return undefined;
  return (await accepts(announced.endpoints?.dynamodb)) ? announced : undefined;
}

function attach(props: UseSharedServicesProps, announced: ServicesAnnouncement, release: () => void, started: boolean): SharedServices {
  const wanted = props.ports;
  const port = (endpoint: string) => Number(new URL(endpoint).port);
  if (
    (wanted?.s3 !== undefined && wanted.s3 !== 0 && port(announced.endpoints.s3) !== wanted.s3) ||
    (wanted?.dynamodb !== undefined && wanted.dynamodb !== 0 && port(announced.endpoints.dynamodb) !== wanted.dynamodb)
  ) {
    throw new ServicesPortsError(props.home, announced);
  }
  const dynamo = attachedDynamo(announced.endpoints.dynamodb);
  const s3 = attachedS3(announced);
  return {
    dynamo,
    s3,
    pid: announced.pid,
    repaired: started ? announced.repaired : undefined,
    release: async () => {
      await Promise.allSettled([dynamo.stop(), s3.stop()]);
      release();
    },
  };
}

/** Starts the services process and waits for its announcement (or its failure). */
async function startServices(props: UseSharedServicesProps): Promise<ServicesAnnouncement> {
  const { home } = props;
  const idleMs = props.idleMs ?? idleFromEnvironment();
  const logFile = join(home, SERVICES_LOG);
  rmSync(join(home, SERVICES_FILE), { force: true });
  const log = openSync(logFile, 'w');
  const args = [CLI, 'services', '--home', home, '--idle-ms', String(idleMs)];
  if (props.ports?.s3) args.push('--s3-port', String(props.ports.s3));
  if (props.ports?.dynamodb) args.push('--dynamodb-port', String(props.ports.dynamodb));
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', log, log], cwd: home });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  try {
    for (;;) {
      const announced = await findLiveServices(home);
      if (announced && announced.pid === child.pid) return announced;
      if (exited !== undefined) {
        const lines = readFileSync(logFile, 'utf8').trim().split('\n');
        const reason = lines.findLast((line) => line.startsWith('error: '))?.slice('error: '.length) ?? lines.at(-1) ?? `exit code ${exited}`;
        throw new ServicesStartError(reason.replace(/^\w+Error: /, ''));
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } finally {
    child.unref();
  }
}

function idleFromEnvironment(): number {
  const value = Number(process.env.SLUICE_SERVICES_IDLE_MS);
  return Number.isInteger(value) && value >= 0 && process.env.SLUICE_SERVICES_IDLE_MS !== '' ? value : DEFAULT_IDLE_MS;
}

/** Whether something listens at `endpoint` (a pid can be reused after a crash: ask the port too). */
export function accepts(endpoint: string | undefined): Promise<boolean> {
  if (!endpoint) return Promise.resolve(false);
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The DynamoDB of the services process: stopping it only closes this process's client. */
function attachedDynamo(endpoint: string): LocalDynamo {
  const { close, ...clients } = dynamoClients(endpoint);
  return { endpoint, ...clients, stop: async () => close() };
}

/** The S3 of the services process; its Object Created events arrive over a server-sent event stream. */
function attachedS3(announced: ServicesAnnouncement): LocalS3 {
  let client: S3Client | undefined;
  const endpoint = announced.endpoints.s3;
  const streams = new Set<ClientRequest>();
  const subscribed: Promise<void>[] = [];
  const progress = new EventCount();
  return {
    endpoint,
    clientEnvironment: announced.s3ClientEnvironment,
    client: () => (client ??= s3ClientFor(endpoint)),
    onObjectCreated: (listener) => {
      const { request, ready } = subscribe(announced.endpoints.objectCreated, listener, progress);
      streams.add(request);
      subscribed.push(ready);
      return () => {
        streams.delete(request);
        request.destroy();
      };
    },
    listening: async () => {
      await Promise.all(subscribed);
    },
    flush: async () => {
      if (streams.size === 0) return;
      const { last } = (await (await fetch(`${announced.endpoints.objectCreated}/last`)).json()) as { last: number };
      await progress.reached(last);
    },
    stop: async () => {
      client?.destroy();
      client = undefined;
      for (const stream of streams) stream.destroy();
      streams.clear();
    },
  };
}

/** The number of the last event received from the services, with waiters for later ones. */
class EventCount {
  private received = 0;
  private readonly waiting = new Set<{ id: number; resolve: () => void }>();

  record(id: number): void {
    this.received = Math.max(this.received, id);
    for (const waiter of this.waiting) {
      if (waiter.id > this.received) continue;
      this.waiting.delete(waiter);
      waiter.resolve();
    }
  }

  reached(id: number): Promise<void> {
    if (id <= this.received) return Promise.resolve();
    return new Promise((resolve) => this.waiting.add({ id, resolve }));
  }
}

/** Subscribes to the event stream; `ready` resolves once the services have registered it. */
function subscribe(url: string, listener: ObjectCreatedListener, progress: EventCount): { request: ClientRequest; ready: Promise<void> } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const ready = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  const request = http.get(url, (response) => {
    if (response.statusCode !== 200) reject(new Error(`The local services answered ${response.statusCode} to ${url}`));
    else resolve();
    response.setEncoding('utf8');
    let buffer = '';
    response.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const message = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = message.split('\n');
        const field = (name: string) => lines.filter((line) => line.startsWith(`${name}: `)).map((line) => line.slice(name.length + 2)).join('\n');
        const data = field('data');
        const id = Number(field('id'));
        if (data) listener(JSON.parse(data) as ObjectCreatedEvent, id);
        if (id > 0) progress.record(id);
      }
    });
  });
  request.on('error', (error) => {
    // Before the subscription: a failure to report; after it: the services stopped.
    reject(error);
  });
  ready.catch(() => {});
  return { request, ready };
}
