import { describe, expect, it } from 'vitest';
import type { LauncherConfig } from '../../lib/compile/contract';
import { partitionFromS3Event } from '../../orchestration/s3-arrival';
import { BUCKETS, SALES } from './sales-pipeline';

/** An EventBridge `Object Created` event as S3 sends it: the key URL-encoded. */
function objectCreated(bucket: string, encodedKey: string, time = '2024-01-02T03:04:05Z'): Record<string, unknown> {
  return {
    version: '0',
    id: '17793124-05d4-b198-2fde-7ededc63b103',
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '123456789012',
    time,
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${bucket}`],
    detail: {
      version: '0',
      bucket: { name: bucket },
      object: { key: encodedKey, size: 5, etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '00617F08299329D189' },
      'request-id': 'N4N7GDK58NMKJ12R',
      requester: '123456789012',
      reason: 'PutObject',
    },
  };
}

describe('partitionFromS3Event', () => {
  it('URL-decodes the key, "+" meaning a space, before matching', () => {
    // When
    const decision = partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/2024-01-01/a+b%3D.csv'));

    // Then
    expect(decision).toStrictEqual({
      kind: 'run',
      partition: '2024-01-01',
      trigger: 's3',
      object: { bucket: 'prod-raw-1a2b', key: 'sales/2024-01-01/a b=.csv', etag: 'b1946ac92492d2347c6235b4d2611184', sequencer: '00617F08299329D189' },
    });
  });

  it('matches a prefix holding a space only once the key is decoded', () => {
    // Given an event at 03:04 UTC, still the 1st in New York
    const event = objectCreated('prod-landing-3c4d', 'raw+data/file%201.json', '2024-01-02T03:04:05Z');

    // When
    const decision = partitionFromS3Event(SALES, BUCKETS, event);

    // Then the partition is the one containing the event time, in the pipeline's zone
    expect(decision).toMatchObject({ kind: 'run', partition: '2024-01-01', object: { key: 'raw data/file 1.json' } });
  });

  it('ignores keys outside the prefix or suffix', () => {
    expect(partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'returns/2024-01-01/a.csv'))).toStrictEqual({
      kind: 'ignore',
      reason:
        's3://prod-raw-1a2b/returns/2024-01-01/a.csv matches no s3Arrival trigger (bucket, prefix, suffix) of pipeline "daily-sales"',
    });
    expect(partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/2024-01-01/a.json')).kind).toBe('ignore');
  });

  it('matches buckets by deployed name, not logical name', () => {
    expect(partitionFromS3Event(SALES, BUCKETS, objectCreated('raw', 'sales/2024-01-01/a.csv')).kind).toBe('ignore');
  });

  it('ignores a key the partitionFromKey expression does not match', () => {
    // When
    const decision = partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/latest/a.csv'));

    // Then
    expect(decision).toStrictEqual({
      kind: 'ignore',
      reason: 's3://prod-raw-1a2b/sales/latest/a.csv matches no partitionFromKey of the s3Arrival triggers of pipeline "daily-sales"',
    });
  });

  it('fails a captured partition key that is not a partition of the pipeline', () => {
    const impossible = partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/2024-02-30/a.csv'));
    const tooEarly = partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/2023-12-31/a.csv'));

    expect(impossible).toMatchObject({ kind: 'invalid' });
    expect(impossible.kind === 'invalid' && impossible.reason).toMatch(/^s3:\/\/prod-raw-1a2b\/sales\/2024-02-30\/a\.csv: partition "2024-02-30" is not valid: /);
    expect(tooEarly).toStrictEqual({
      kind: 'invalid',
      reason:
        's3://prod-raw-1a2b/sales/2023-12-31/a.csv: partition "2023-12-31" is not valid: partition "2023-12-31" is before the first partition "2024-01-01"',
    });
  });

  it('runs the partition "default" of an unpartitioned pipeline', () => {
    const config: LauncherConfig = { name: 'plain', tasks: [], maxConcurrentRuns: 10, triggers: [{ kind: 's3Arrival', bucket: 'raw' }] };
    expect(partitionFromS3Event(config, BUCKETS, objectCreated('prod-raw-1a2b', 'x'))).toMatchObject({ kind: 'run', partition: 'default' });
  });

  it('fails a static-partitioned pipeline whose trigger cannot name a partition', () => {
    const config: LauncherConfig = {
      name: 'regions',
      tasks: [],
      maxConcurrentRuns: 10,
      partitions: { kind: 'static', keys: ['eu', 'us'] },
      triggers: [{ kind: 's3Arrival', bucket: 'raw' }],
    };
    expect(partitionFromS3Event(config, BUCKETS, objectCreated('prod-raw-1a2b', 'eu/a.csv'))).toStrictEqual({
      kind: 'invalid',
      reason: 's3://prod-raw-1a2b/eu/a.csv: pipeline "regions" has static partitions, so its s3Arrival trigger needs partitionFromKey',
    });
  });

  it('fails events that are not S3 Object Created events', () => {
    const deleted = { ...objectCreated('prod-raw-1a2b', 'sales/2024-01-01/a.csv'), 'detail-type': 'Object Deleted' };
    expect(partitionFromS3Event(SALES, BUCKETS, deleted)).toStrictEqual({
      kind: 'malformed',
      reason: 'the event has detail-type "Object Deleted"; expected an EventBridge "Object Created" event from aws.s3',
    });
    expect(partitionFromS3Event(SALES, BUCKETS, [1, 2])).toStrictEqual({ kind: 'malformed', reason: 'the event is [1,2]; expected a JSON object' });
    const noKey = objectCreated('prod-raw-1a2b', 'k');
    (noKey.detail as { object: unknown }).object = {};
    expect(partitionFromS3Event(SALES, BUCKETS, noKey)).toStrictEqual({
      kind: 'malformed',
      reason: 'the event has detail.object.key undefined; expected a string',
    });
  });

  it('fails an event without an ETag or a hexadecimal sequencer: it could not be told from a redelivery', () => {
    const event = objectCreated('prod-raw-1a2b', 'sales/2024-01-01/a.csv');
    (event.detail as { object: Record<string, unknown> }).object.sequencer = 'not-hex';
    expect(partitionFromS3Event(SALES, BUCKETS, event)).toStrictEqual({
      kind: 'malformed',
      reason: 'the event has detail.object.sequencer "not-hex"; expected a hexadecimal sequencer',
    });
  });

  it('fails an event whose time is not an instant: the partition of a daily arrival comes from it', () => {
    expect(partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-landing-3c4d', 'raw data/a.csv', 'yesterday'))).toStrictEqual({
      kind: 'malformed',
      reason: 'the event has time "yesterday"; expected an ISO-8601 instant',
    });
  });

  it('fails a key that is not valid URL encoding', () => {
    expect(partitionFromS3Event(SALES, BUCKETS, objectCreated('prod-raw-1a2b', 'sales/%E0%A4%A.csv'))).toStrictEqual({
      kind: 'malformed',
      reason: 'the object key "sales/%E0%A4%A.csv" is not valid URL encoding',
    });
  });
});

