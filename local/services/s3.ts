import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import { LOCAL_ACCESS_KEY, LOCAL_REGION, localCredentials } from './private/loopback';

/** The EventBridge event S3 sends for a new object (`detail-type: Object Created`). */
export interface ObjectCreatedEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': 'Object Created';
  readonly source: 'aws.s3';
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: readonly string[];
  readonly detail: {
    readonly version: '0';
    readonly bucket: { readonly name: string };
    readonly object: {
      /** URL-encoded as S3 does: `a b+c.csv` arrives as `a+b%2Bc.csv`. */
      readonly key: string;
      readonly size: number;
      readonly etag: string;
      /** Orders events of one key: compare as hex strings of equal length. */
      readonly sequencer: string;
    };
    readonly 'request-id': string;
    readonly requester: string;
    readonly reason: 'PutObject' | 'CopyObject' | 'CompleteMultipartUpload' | 'PostObject';
  };
}

/** Options of {@link startS3}. */
export interface StartS3Options {
  /** Directory of the objects, created if absent (e.g. `$SLUICE_HOME/s3`). */
  readonly dataDir: string;
  /**
   * Port on 127.0.0.1.
   * @default 0 - a free port chosen by the system
   */
  readonly port?: number;
  /** Buckets created at start when absent; existing objects are kept. */
  readonly buckets: readonly string[];
  /**
   * Account id put in events.
   * @default '000000000000'
   */
  readonly account?: string;
}

/** A running S3-compatible endpoint on loopback. */
export interface LocalS3 {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /**
   * Environment for code that builds its own `S3Client` (task handlers): endpoint, the
   * credentials the endpoint accepts and checksum behaviour it supports.
   */
  readonly clientEnvironment: Readonly<Record<string, string>>;
  /** A client for this endpoint, shared and destroyed by `stop()`. */
  client(): S3Client;
  /**
   * Calls `listener` after every successful PutObject, CopyObject and CompleteMultipartUpload,
   * before the response reaches the client, with the event's number (1, 2, … in the order of the
   * uploads; every listener sees the same number for the same event, so one listener can take
   * over from another without missing or repeating an event). Returns a function that removes
   * the listener.
   */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  /** Resolves once the listeners added so far receive the events of every later upload. */
  listening(): Promise<void>;
  /** Resolves once the events of every upload completed so far have reached the listeners. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** Receives an Object Created event and its number. */
export type ObjectCreatedListener = (event: ObjectCreatedEvent, number: number) => void;

const REASONS = {
  'ObjectCreated:Put': 'PutObject',
  'ObjectCreated:Copy': 'CopyObject',
  'ObjectCreated:Post': 'PostObject',
} as const;

/**
 * Starts s3rver on 127.0.0.1 storing under `dataDir`. Clients need `forcePathStyle` (implied for
 * an IP endpoint) and checksums `WHEN_REQUIRED`: s3rver stores aws-chunked bodies undecoded.
 * See S3-ENDPOINT.md for the evaluation and the gaps.
 */
export async function startS3(options: StartS3Options): Promise<LocalS3> {
  await mkdir(options.dataDir, { recursive: true });
  const account = options.account ?? '000000000000';
  // Loaded here, not with this module: most commands attach to running services and never start
  // one, and s3rver (with its web framework) takes a quarter of a second to load.
  const { default: S3rver } = await import('s3rver');
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory: options.dataDir,
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  const listeners = new Set<ObjectCreatedListener>();
  let emitted = 0;
  const completing = new Set<string>();
  const sequencer = monotonicSequencer();

  server.on('event', (notification) => {
    for (const record of notification.Records) {
      const reason = REASONS[record.eventName as keyof typeof REASONS];
      if (!reason) continue;
      const bucket = record.s3.bucket.name;
      const { key, size = 0, eTag } = record.s3.object;
      const completed = completing.delete(`${bucket}/${key}`);
      const emit = (etag: string) =>
        deliver(listeners, ++emitted, {
          version: '0',
          id: randomUUID(),
          'detail-type': 'Object Created',
          source: 'aws.s3',
          account,
          time: new Date(record.eventTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: LOCAL_REGION,
          resources: [`arn:aws:s3:::${bucket}`],
          detail: {
            version: '0',
            bucket: { name: bucket },
            object: { key: encodeEventKey(key), size, etag, sequencer: sequencer() },
            'request-id': randomBytes(8).toString('hex').toUpperCase(),
            requester: account,
            reason: reason === 'PostObject' && completed ? 'CompleteMultipartUpload' : reason,
          },
        });
      // s3rver's copy record has no ETag; the copy's metadata is already stored.
      if (eTag !== undefined) emit(eTag);
      else {
        server.store
          .getMetadata(bucket, key)
          .then((metadata) => emit(JSON.parse(metadata.etag) as string))
          .catch((error: unknown) => process.emitWarning(`No Object Created event for the copy to s3://${bucket}/${key}: ${String(error)}`));
      }
    }
  });

  const address = await server.run();
  const httpServer = server.httpServer!;
  // Runs before s3rver's own request listener, so the header is fixed before it is read.
  httpServer.prependListener('request', (request: IncomingMessage) => {
    normalizeCopySource(request);
    const target = multipartCompletion(request);
    if (target) completing.add(target);
  });

  const endpoint = `http://127.0.0.1:${address.port}`;
  let client: S3Client | undefined;
  return {
    endpoint,
    clientEnvironment: Object.freeze({
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: LOCAL_ACCESS_KEY,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
    }),
    client: () => (client ??= s3ClientFor(endpoint)),
    onObjectCreated: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    listening: async () => {},
    // Listeners are called before the upload's response: nothing is ever in flight.
    flush: async () => {},
    stop: async () => {
      client?.destroy();
      client = undefined;
      listeners.clear();
      httpServer.closeAllConnections();
      await server.close();
    },
  };
}

/** A listener's exception must not fail the upload that caused the event: it is reported instead. */
function deliver(listeners: ReadonlySet<ObjectCreatedListener>, number: number, event: ObjectCreatedEvent): void {
  for (const listener of listeners) {
    try {
      listener(event, number);
    } catch (error) {
      process.emitWarning(`An Object Created listener failed for s3://${event.detail.bucket.name}/${event.detail.object.key}: ${String(error)}`);
    }
  }
}

/**
 * A client of a local S3 endpoint: path-style addressing, the endpoint's key pair, and checksums
 * only where required (s3rver would store aws-chunked bodies undecoded).
 */
export function s3ClientFor(endpoint: string): S3Client {
  // Loaded when a client is first made: a command that makes none (a warm `sluice run`) skips it.
  const { S3Client } = createRequire(import.meta.url)('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
  return new S3Client({
    endpoint,
    region: LOCAL_REGION,
    credentials: localCredentials(),
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/**
 * S3 event keys are form-encoded: space as `+`, reserved characters percent-encoded, `/` kept.
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

/**
 * `x-amz-copy-source` is URL-encoded (the SDK sends what the caller passes, which AWS decodes
 * fully); s3rver applies `decodeURI`, which leaves `%2B` and friends encoded and so misses keys
 * with `+`, `&`, `=`... Re-encoding the decoded value with `encodeURI` makes its `decodeURI` exact.
 */
function normalizeCopySource(request: IncomingMessage): void {
  const source = request.headers['x-amz-copy-source'];
  if (typeof source !== 'string') return;
  try {
    request.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
  } catch {
    // Not valid percent-encoding: let s3rver answer with its own error for the raw value.
  }
}

/** `bucket/key` of a CompleteMultipartUpload request (path style), so its event gets its reason. */
function multipartCompletion(request: IncomingMessage): string | undefined {
  if (request.method !== 'POST' || !request.url) return undefined;
  const url = new URL(request.url, 'http://local');
  if (!url.searchParams.has('uploadId')) return undefined;
  const [, bucket, ...key] = url.pathname.split('/');
  return bucket && key.length > 0 ? `${decodeURIComponent(bucket)}/${decodeURIComponent(key.join('/'))}` : undefined;
}

/** AWS sequencers grow per key; a process-wide increasing hex of fixed width satisfies that. */
function monotonicSequencer(): () => string {
  let last = 0n;
  return () => {
    const now = BigInt(Date.now()) * 1_000_000n;
    last = now > last ? now : last + 1n;
    return last.toString(16).toUpperCase().padStart(18, '0');
  };
}
