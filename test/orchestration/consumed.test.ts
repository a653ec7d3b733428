import { describe, expect, it } from 'vitest';
import {
  CONSUMED_MAX,
  compareOrder,
  type ConsumedVersion,
  consumedBy,
  judgeVersion,
  LABEL_MAX,
  s3Version,
  scheduleVersion,
  withConsumed,
} from '../../orchestration/consumed';

const NOW = new Date('2024-01-02T03:04:05Z');
const object = (etag: string, sequencer: string, versionId?: string) =>
  s3Version({ bucket: 'raw', key: 'sales/2024-01-01/a.csv', etag, sequencer, ...(versionId && { versionId }) });

describe('judgeVersion: exactly once per (partition, data version)', () => {
  const consumedV1: ConsumedVersion[] = withConsumed([], object('etag-1', '0062A1'), 1, NOW);

  it('takes the first event of an object as new data', () => {
    expect(judgeVersion([], object('etag-1', '0062A1'))).toStrictEqual({ kind: 'new' });
  });

  it('takes the same event delivered again (same sequencer) as a duplicate, whatever the partition did since', () => {
    expect(judgeVersion(consumedV1, object('etag-1', '0062A1'))).toMatchObject({
      kind: 'duplicate',
      reason: expect.stringContaining('s3://raw/sales/2024-01-01/a.csv was consumed by run 1'),
    });
  });

  it('takes an older event of the object, delivered late, as a duplicate', () => {
    expect(judgeVersion(consumedV1, object('etag-0', '0062A0')).kind).toBe('duplicate');
  });

  it('takes the same S3 version id as a duplicate, even with another sequencer', () => {
    const consumed = withConsumed([], object('etag-1', '0062A1', 'v1'), 1, NOW);
    expect(judgeVersion(consumed, object('etag-1', '0062B0', 'v1')).kind).toBe('duplicate');
  });

  it('takes an identical re-upload (same key and ETag, later event) as unchanged', () => {
    expect(judgeVersion(consumedV1, object('etag-1', '0062B0'))).toMatchObject({ kind: 'unchanged' });
    expect(judgeVersion(consumedV1, object('etag-1', '0062B0', 'v2'))).toMatchObject({ kind: 'unchanged' });
  });

  it('takes a changed object (later event, other ETag) as new data, naming what it replaces', () => {
    expect(judgeVersion(consumedV1, object('etag-2', '0062B0'))).toStrictEqual({ kind: 'new', previous: consumedV1[0] });
  });

  it('takes another object of the same partition as new data', () => {
    const other = s3Version({ bucket: 'raw', key: 'sales/2024-01-01/b.csv', etag: 'etag-1', sequencer: '0062A1' });
    expect(judgeVersion(consumedV1, other).kind).toBe('new');
  });

  it('takes a schedule tick delivered again (same scheduled time) as a duplicate, and the next tick as new', () => {
    const tick = new Date('2024-01-02T06:00:00Z');
    const consumed = withConsumed([], scheduleVersion(tick), 1, NOW);
    expect(judgeVersion(consumed, scheduleVersion(tick)).kind).toBe('duplicate');
    expect(judgeVersion(consumed, scheduleVersion(new Date('2024-01-03T06:00:00Z'))).kind).toBe('new');
  });
});

describe('withConsumed', () => {
  it('keeps the latest version per source, recording the run that sees it', () => {
    // Given
    const first = withConsumed([], object('etag-1', '0062A1'), 1, NOW);

    // When
    const second = withConsumed(first, object('etag-2', '0062B0'), 2, new Date('2024-01-02T04:00:00Z'));

    // Then
    expect(second).toStrictEqual([{ ...object('etag-2', '0062B0'), runNumber: 2, at: '2024-01-02T04:00:00.000Z' }]);
    expect(consumedBy(second, 2)).toBe(true);
    expect(consumedBy(second, 1)).toBe(false);
  });

  it(`is bounded at ${CONSUMED_MAX} sources, forgetting the oldest consumed first`, () => {
    // Given a partition that consumed as many objects as it remembers
    let consumed: ConsumedVersion[] = [];
    for (let i = 0; i < CONSUMED_MAX; i++) {
      const version = s3Version({ bucket: 'raw', key: `k${i}`, etag: 'e', sequencer: '01' });
      consumed = withConsumed(consumed, version, 1, new Date(NOW.getTime() + i * 1000));
    }

    // When one more arrives
    const next = withConsumed(consumed, s3Version({ bucket: 'raw', key: 'new', etag: 'e', sequencer: '01' }), 2, new Date('2025-01-01'));

    // Then the oldest is forgotten and the newest kept
    expect(next).toHaveLength(CONSUMED_MAX);
    expect(next.map((c) => c.label)).not.toContain('s3://raw/k0');
    expect(next.map((c) => c.label)).toContain('s3://raw/k1');
    expect(next.at(-1)?.label).toBe('s3://raw/new');
  });
});

describe('s3Version', () => {
  it('identifies an object by bucket and exact key, and cuts only the readable label', () => {
    // Given two 1,024-byte keys that differ in their last character
    const long = 'x'.repeat(1023);
    const a = s3Version({ bucket: 'raw', key: `${long}a`, etag: 'e', sequencer: '01' });
    const b = s3Version({ bucket: 'raw', key: `${long}b`, etag: 'e', sequencer: '01' });

    // Then
    expect(a.source).not.toBe(b.source);
    expect(a.label).toHaveLength(LABEL_MAX);
    expect(a.label.endsWith('…')).toBe(true);
  });

  it('keeps keys with unicode, spaces and newlines apart', () => {
    const keys = ['a b', 'a+b', 'a\nb', 'ä b', 'a%2Fb', 'a/b'];
    const sources = new Set(keys.map((key) => s3Version({ bucket: 'raw', key, etag: 'e', sequencer: '01' }).source));
    expect(sources.size).toBe(keys.length);
  });
});

describe('compareOrder', () => {
  it('compares S3 sequencers as hexadecimal values, whatever their length or case', () => {
    expect(compareOrder('00617F08299329D189', '617f08299329d189')).toBe(0);
    expect(compareOrder('0A', '9')).toBe(1);
    expect(compareOrder('00FF', '0100')).toBe(-1);
  });
});
