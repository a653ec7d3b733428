import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../local/services/event-pattern';
import { encodeEventKey, type LocalS3, type ObjectCreatedEvent, startS3 } from '../../../local/services/s3';

describe('startS3', () => {
  let dataDir: string;
  let s3: LocalS3;
  const events: ObjectCreatedEvent[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'sluice-s3-'));
    s3 = await startS3({ dataDir, buckets: ['raw', 'curated'] });
    s3.onObjectCreated((event) => events.push(event));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** The events of one key; copy events are emitted once the copy's metadata is read back. */
  async function eventsFor(key: string, count = 1): Promise<ObjectCreatedEvent[]> {
    const encoded = encodeEventKey(key);
    await expect.poll(() => events.filter((event) => event.detail.object.key === encoded).length).toBe(count);
    return events.filter((event) => event.detail.object.key === encoded);
  }

  it('round-trips PutObject, HeadObject, GetObject and ListObjectsV2 with the SDK client', async () => {
    // Given
    const client = s3.client();
    const body = 'region,amount\neu,10\nus,20\n';

    // When
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'sales/2024-01-01/eu.csv', Body: body }));

    // Then
    const head = await client.send(new HeadObjectCommand({ Bucket: 'raw', Key: 'sales/2024-01-01/eu.csv' }));
    expect(head.ContentLength).toBe(body.length);
    const get = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'sales/2024-01-01/eu.csv' }));
    expect(await get.Body?.transformToString()).toBe(body);
    const list = await client.send(new ListObjectsV2Command({ Bucket: 'raw', Prefix: 'sales/2024-01-01/' }));
    expect(list.Contents?.map((object) => [object.Key, object.Size])).toStrictEqual([['sales/2024-01-01/eu.csv', body.length]]);
  });

  it('emits an EventBridge Object Created event with the key URL-encoded as AWS does', async () => {
    // When
    const put = await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'sales/2024-01-01/a b+c.csv', Body: 'x' }));

    // Then
    const [event] = await eventsFor('sales/2024-01-01/a b+c.csv');
    expect(event).toMatchObject({
      version: '0',
      'detail-type': 'Object Created',
      source: 'aws.s3',
      account: '000000000000',
      region: 'us-east-1',
      resources: ['arn:aws:s3:::raw'],
      detail: {
        version: '0',
        bucket: { name: 'raw' },
        object: { key: 'sales/2024-01-01/a+b%2Bc.csv', size: 1, etag: put.ETag?.replaceAll('"', '') },
        requester: '000000000000',
        reason: 'PutObject',
      },
    });
    expect(event!.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(event!.detail.object.sequencer).toMatch(/^[0-9A-F]{18}$/);
  });

  it('emits events a prefix/suffix rule of the template matches', async () => {
    // Given the rule pattern an s3Arrival trigger compiles to
    const pattern = {
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: ['raw'] }, object: { key: [{ prefix: 'sales/' }] } },
    };

    // When one object matches and one does not
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'sales/2024-01-02/us.csv', Body: 'x' }));
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'inventory/2024-01-02.csv', Body: 'x' }));

    // Then only the first matches
    expect(matchesPattern(pattern, (await eventsFor('sales/2024-01-02/us.csv'))[0])).toBe(true);
    expect(matchesPattern(pattern, (await eventsFor('inventory/2024-01-02.csv'))[0])).toBe(false);
  });

  it('copies a key with reserved characters from a URL-encoded CopySource and emits CopyObject', async () => {
    // Given
    const client = s3.client();
    const put = await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'in/x+y=z.csv', Body: 'abc' }));

    // When
    await client.send(new CopyObjectCommand({ Bucket: 'curated', Key: 'out/x+y=z.csv', CopySource: `raw/${encodeURIComponent('in/x+y=z.csv')}` }));

    // Then
    const copied = await client.send(new GetObjectCommand({ Bucket: 'curated', Key: 'out/x+y=z.csv' }));
    expect(await copied.Body?.transformToString()).toBe('abc');
    const [event] = await eventsFor('out/x+y=z.csv');
    expect(event!.detail).toMatchObject({ bucket: { name: 'curated' }, object: { size: 3, etag: put.ETag?.replaceAll('"', '') }, reason: 'CopyObject' });
  });

  it('emits CompleteMultipartUpload for a multipart upload', async () => {
    // Given
    const client = s3.client();
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'raw', Key: 'big/part.csv' }));
    const part = await client.send(new UploadPartCommand({ Bucket: 'raw', Key: 'big/part.csv', UploadId, PartNumber: 1, Body: 'only part' }));

    // When
    await client.send(
      new CompleteMultipartUploadCommand({ Bucket: 'raw', Key: 'big/part.csv', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }),
    );

    // Then
    const [event] = await eventsFor('big/part.csv');
    expect(event!.detail).toMatchObject({ object: { size: 'only part'.length }, reason: 'CompleteMultipartUpload' });
  });

  it('gives increasing sequencers to successive writes of one key', async () => {
    // When
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'seq.csv', Body: '1' }));
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'seq.csv', Body: '2' }));

    // Then
    const [first, second] = (await eventsFor('seq.csv', 2)).map((event) => event.detail.object.sequencer);
    expect(second! > first!).toBe(true);
  });

  it('serves a client configured only through clientEnvironment, as a task handler builds it', async () => {
    // Given a client built from the environment alone, with a streamed body (aws-chunked unless
    // the environment turns default checksums off)
    // (the SDK reads the environment lazily, so it stays set until the request is sent)
    const saved = { ...process.env };
    Object.assign(process.env, s3.clientEnvironment);
    const client = new S3Client({ region: 'eu-west-1' });

    // When
    try {
      await client.send(
        new PutObjectCommand({ Bucket: 'curated', Key: 'handler.json', Body: Readable.from(['{"ok"', ':true}']), ContentLength: 11 }),
      );
    } finally {
      process.env = saved;
    }

    // Then the object holds exactly the bytes sent
    const get = await s3.client().send(new GetObjectCommand({ Bucket: 'curated', Key: 'handler.json' }));
    expect(await get.Body?.transformToString()).toBe('{"ok":true}');
    client.destroy();
  });

  it('keeps objects and buckets across a restart on the same directory', async () => {
    // Given an object written before the restart
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'kept.csv', Body: 'kept' }));

    // When
    await s3.stop();
    s3 = await startS3({ dataDir, buckets: ['raw'] });

    // Then
    const get = await s3.client().send(new GetObjectCommand({ Bucket: 'raw', Key: 'kept.csv' }));
    expect(await get.Body?.transformToString()).toBe('kept');
    await s3.client().send(new CreateBucketCommand({ Bucket: 'made-by-client' }));
  });
});

describe('encodeEventKey', () => {
  it.each([
    ['sales/2024-01-01/a b+c.csv', 'sales/2024-01-01/a+b%2Bc.csv'],
    ['x=1&y=2.csv', 'x%3D1%26y%3D2.csv'],
    ['(draft)*.csv', '%28draft%29%2A.csv'],
    ['été/naïve.csv', '%C3%A9t%C3%A9/na%C3%AFve.csv'],
  ])('encodes %s as %s', (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
  });
});
