import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  MAX_LISTED_PARTITIONS,
  PartitionKeyError,
  PartitionSpecError,
  listPartitions,
  parsePartitionKey,
  partitionForScheduledTime,
  partitionKeyAt,
  partitionSpecIssues,
  partitionStart,
  partitionsForScheduledTime,
} from '../../lib/compile/partition-keys';
import {
  daily,
  hourly,
  monthly,
  multiPartitions,
  staticPartitions,
  weekly,
  type PartitionSpec,
  type TimeGranularity,
  type TimePartitions,
} from '../../lib/definitions/partitions';

const ZONES = ['America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata', 'UTC'] as const;
const KINDS: readonly TimeGranularity[] = ['hourly', 'daily', 'weekly', 'monthly'];
const FAR_FUTURE = new Date('2100-01-01T00:00:00Z');
const at = (iso: string): Date => new Date(iso);

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so failures reproduce. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const spec = (kind: TimeGranularity, timezone: string, start = '2000-01-01', end?: string): TimePartitions => ({
  kind,
  start,
  timezone,
  ...(end ? { end } : {}),
});

/** The 2024 DST changes of the zones under test (northern spring/autumn, Lord Howe's autumn/spring). */
const DST_DAYS = ['2024-03-10', '2024-03-31', '2024-04-07', '2024-10-06', '2024-10-27', '2024-11-03'];

/** Random instants from 2000 to 2040, plus every half hour around each 2024 DST change. */
function sampleInstants(seed: number, count: number): number[] {
  const next = random(seed);
  const from = Date.UTC(2000, 0, 1);
  const to = Date.UTC(2040, 0, 1);
  const instants = Array.from({ length: count }, () => Math.floor(from + next() * (to - from)));
  for (const day of DST_DAYS) {
    const midnight = Date.parse(`${day}T00:00:00Z`);
    for (let m = -12 * 60; m <= 12 * 60; m += 30) instants.push(midnight + m * 60_000);
  }
  return instants.sort((a, b) => a - b);
}

/** Asserts that listed keys are unique, adjacent, strictly increasing, and round-trip. */
function expectContiguous(s: TimePartitions, keys: readonly string[]): void {
  const starts = keys.map((k) => partitionStart(s, k).getTime());
  keys.forEach((key, i) => {
    expect(partitionKeyAt(s, new Date(starts[i]!))).toBe(key);
    if (i > 0) {
      expect(key > keys[i - 1]!, `${keys[i - 1]} then ${key}`).toBe(true);
      expect(starts[i]!).toBeGreaterThan(starts[i - 1]!);
      // Adjacent: the instant before a start belongs to the previous listed key.
      expect(partitionKeyAt(s, new Date(starts[i]! - 1))).toBe(keys[i - 1]);
    }
  });
}

describe('partitionKeyAt / partitionStart properties', () => {
  for (const zone of ZONES) {
    for (const kind of KINDS) {
      it(`${kind} keys in ${zone} sort in time order and round-trip through partitionStart`, () => {
        // Given random instants in time order
        const s = spec(kind, zone);
        const instants = sampleInstants(zone.length * 31 + kind.length, 100);

        // When each is mapped to its key and the key to its first instant
        const keys = instants.map((ms) => partitionKeyAt(s, new Date(ms)));

        // Then keys never decrease as time increases, and each partition starts at or before the
        // instant, with the instant just before its start in an earlier partition
        keys.forEach((key, i) => {
          if (i > 0) expect(key >= keys[i - 1]!, `${keys[i - 1]} then ${key}`).toBe(true);
          const start = partitionStart(s, key);
          expect(start.getTime()).toBeLessThanOrEqual(instants[i]!);
          expect(partitionKeyAt(s, start)).toBe(key);
          expect(partitionKeyAt(s, new Date(start.getTime() - 1)) < key).toBe(true);
        });
      });
    }

    it(`lists unique, adjacent, strictly increasing calendar keys over 2024 in ${zone}`, () => {
      for (const kind of ['daily', 'weekly', 'monthly'] as const) {
        const s = spec(kind, zone, '2023-12-25', '2025-01-05');
        expectContiguous(s, listPartitions(s, { now: FAR_FUTURE }));
      }
    });

    it(`lists unique, adjacent, strictly increasing hourly keys around each DST change in ${zone}`, () => {
      for (const day of DST_DAYS) {
        // Given hourly partitions from the day before to the day after
        const from = DateTime.fromISO(day).minus({ days: 1 }).toISODate()!;
        const to = DateTime.fromISO(day).plus({ days: 1 }).toISODate()!;
        const s = spec('hourly', zone, from, to);

        // When listed
        const keys = listPartitions(s, { now: FAR_FUTURE });

        // Then they are contiguous, and every 10 minutes of the span falls in a listed key
        expectContiguous(s, keys);
        const listed = new Set(keys);
        const first = partitionStart(s, keys[0]!).getTime();
        const end = partitionStart(s, keys.at(-1)!).getTime() + 3_600_000;
        for (let ms = first; ms < end; ms += 600_000) expect(listed.has(partitionKeyAt(s, new Date(ms)))).toBe(true);
      }
    });
  }
});

describe('hourly keys around daylight-saving changes', () => {
  const ny = hourly({ start: '2024-01-01', timezone: 'America/New_York' });

  it('gives the second occurrence of a repeated hour a "b" suffix (New York fall-back)', () => {
    // Given the instants around 2024-11-03 01:00 EDT → 01:00 EST
    const keys = ['04:30', '05:00', '05:59', '06:00', '06:59', '07:00'].map((t) => partitionKeyAt(ny, at(`2024-11-03T${t}:00Z`)));

    // Then 01:xx EDT is T01, 01:xx EST is T01b, and the keys sort in time order
    expect(keys).toStrictEqual(['2024-11-03T00', '2024-11-03T01', '2024-11-03T01', '2024-11-03T01b', '2024-11-03T01b', '2024-11-03T02']);
    expect([...keys].sort()).toStrictEqual(keys);
    expect(partitionStart(ny, '2024-11-03T01').toISOString()).toBe('2024-11-03T05:00:00.000Z');
    expect(partitionStart(ny, '2024-11-03T01b').toISOString()).toBe('2024-11-03T06:00:00.000Z');
  });

  it('sorts the repeated hour correctly east of UTC too (London fall-back)', () => {
    const london = hourly({ start: '2024-01-01', timezone: 'Europe/London' });
    const keys = ['00:00', '01:00', '02:00'].map((t) => partitionKeyAt(london, at(`2024-10-27T${t}:00Z`)));
    expect(keys).toStrictEqual(['2024-10-27T01', '2024-10-27T01b', '2024-10-27T02']);
  });

  it('gives only the repeated half hour the suffix where the shift is 30 minutes (Lord Howe)', () => {
    const lordHowe = hourly({ start: '2024-01-01', timezone: 'Australia/Lord_Howe' });
    // 02:00 +11:00 → 01:30 +10:30 at 15:00Z
    expect(partitionKeyAt(lordHowe, at('2024-04-06T14:45:00Z'))).toBe('2024-04-07T01');
    expect(partitionKeyAt(lordHowe, at('2024-04-06T15:00:00Z'))).toBe('2024-04-07T01b');
    expect(partitionStart(lordHowe, '2024-04-07T01b').toISOString()).toBe('2024-04-06T15:00:00.000Z');
    expect(partitionStart(lordHowe, '2024-04-07T02').toISOString()).toBe('2024-04-06T15:30:00.000Z');
    // 02:00 +10:30 → 02:30 +11:00: hour 02 exists from 02:30
    expect(partitionStart(lordHowe, '2024-10-06T02').toISOString()).toBe('2024-10-05T15:30:00.000Z');
  });

  it('fails to start a skipped hour, naming it (New York spring-forward)', () => {
    expect(() => partitionStart(ny, '2024-03-10T02')).toThrow(PartitionKeyError);
    expect(() => partitionStart(ny, '2024-03-10T02')).toThrow(
      'partition "2024-03-10T02" does not exist in America/New_York: a daylight-saving change skips that hour, or it occurs only once',
    );
  });

  it('fails to start a "b" hour that is not repeated', () => {
    expect(() => partitionStart(ny, '2024-07-01T05b')).toThrow('partition "2024-07-01T05b" does not exist in America/New_York');
  });

  it.each([
    ['America/New_York', '2024-11-03', 25],
    ['America/New_York', '2024-03-10', 23],
    ['Europe/London', '2024-10-27', 25],
    ['Europe/London', '2024-03-31', 23],
    ['Australia/Lord_Howe', '2024-04-07', 25],
    ['Australia/Lord_Howe', '2024-10-06', 24],
    ['Asia/Kolkata', '2024-11-03', 24],
    ['UTC', '2024-11-03', 24],
  ])('lists the hours of %s on %s: %i keys', (timezone, day, count) => {
    const keys = listPartitions(hourly({ start: day, end: day, timezone }), { now: FAR_FUTURE });
    expect(keys).toHaveLength(count);
    expect(new Set(keys).size).toBe(count);
    expect(keys[0]).toBe(`${day}T00`);
    expect(keys.at(-1)).toBe(`${day}T23`);
  });

  it('lists the New York fall-back day with T01b between T01 and T02, and no T02 on spring-forward day', () => {
    const fallBack = listPartitions(hourly({ start: '2024-11-03', end: '2024-11-03', timezone: 'America/New_York' }), { now: FAR_FUTURE });
    expect(fallBack.slice(0, 4)).toStrictEqual(['2024-11-03T00', '2024-11-03T01', '2024-11-03T01b', '2024-11-03T02']);
    const spring = listPartitions(hourly({ start: '2024-03-10', end: '2024-03-10', timezone: 'America/New_York' }), { now: FAR_FUTURE });
    expect(spring.slice(0, 3)).toStrictEqual(['2024-03-10T00', '2024-03-10T01', '2024-03-10T03']);
  });
});

describe('calendar keys', () => {
  it.each([
    ['2020-12-31T12:00:00Z', '2020-W53'],
    ['2021-01-03T12:00:00Z', '2020-W53'],
    ['2021-01-04T00:00:00Z', '2021-W01'],
    ['2024-12-30T00:00:00Z', '2025-W01'],
    ['2027-01-01T00:00:00Z', '2026-W53'],
  ])('puts %s in ISO week %s', (iso, key) => {
    expect(partitionKeyAt(weekly({ start: '2020-01-01' }), at(iso))).toBe(key);
  });

  it('starts an ISO week on Monday midnight in the spec zone', () => {
    const s = weekly({ start: '2020-01-01', timezone: 'America/New_York' });
    expect(partitionStart(s, '2021-W01').toISOString()).toBe('2021-01-04T05:00:00.000Z');
    expect(partitionStart(s, '2020-W53').toISOString()).toBe('2020-12-28T05:00:00.000Z');
  });

  it('uses the local date of the instant, not the UTC date', () => {
    expect(partitionKeyAt(daily({ start: '2024-01-01', timezone: 'America/New_York' }), at('2024-01-02T03:00:00Z'))).toBe('2024-01-01');
    expect(partitionKeyAt(daily({ start: '2024-01-01', timezone: 'Asia/Kolkata' }), at('2024-01-01T20:00:00Z'))).toBe('2024-01-02');
    expect(partitionKeyAt(monthly({ start: '2024-01-01', timezone: 'Asia/Kolkata' }), at('2024-01-31T19:00:00Z'))).toBe('2024-02');
  });

  it('lists 366 daily keys for 2024 in New York, 12 months, and 52 ISO weeks', () => {
    const nyDaily = listPartitions(daily({ start: '2024-01-01', end: '2024-12-31', timezone: 'America/New_York' }), { now: FAR_FUTURE });
    expect(nyDaily).toHaveLength(366);
    expect(nyDaily[59]).toBe('2024-02-29');
    expect(listPartitions(monthly({ start: '2024-01', end: '2024-12' }), { now: FAR_FUTURE })).toHaveLength(12);
    expect(listPartitions(weekly({ start: '2024-W01', end: '2024-W52' }), { now: FAR_FUTURE })).toHaveLength(52);
  });

  it('skips a day a zone never shows (Pacific/Apia, 2011-12-30)', () => {
    const apia = daily({ start: '2011-12-28', end: '2012-01-01', timezone: 'Pacific/Apia' });
    expect(listPartitions(apia, { now: FAR_FUTURE })).toStrictEqual(['2011-12-28', '2011-12-29', '2011-12-31', '2012-01-01']);
    expect(parsePartitionKey(apia, '2011-12-30')).toStrictEqual({
      ok: false,
      reason: 'partition "2011-12-30" does not exist in Pacific/Apia: that day is skipped by a time-zone change',
    });
  });
});

describe('start and end', () => {
  it('reads ISO dates as the partition holding the first (start) or last (end) instant of that day', () => {
    const s = hourly({ start: '2024-01-30', end: '2024-01-31', timezone: 'Asia/Kolkata' });
    const keys = listPartitions(s, { now: FAR_FUTURE });
    expect(keys[0]).toBe('2024-01-30T00');
    expect(keys.at(-1)).toBe('2024-01-31T23');
    expect(listPartitions(weekly({ start: '2024-01-03', end: '2024-01-10' }), { now: FAR_FUTURE })).toStrictEqual(['2024-W01', '2024-W02']);
    expect(listPartitions(monthly({ start: '2024-01-15', end: '2024-03-01' }), { now: FAR_FUTURE })).toStrictEqual([
      '2024-01',
      '2024-02',
      '2024-03',
    ]);
  });

  it('defaults to the last partition complete at now when there is no end', () => {
    const s = daily({ start: '2024-01-01', timezone: 'America/New_York' });
    // 2024-01-04 03:00 New York: the 4th has begun, the 3rd is complete
    expect(listPartitions(s, { now: at('2024-01-04T08:00:00Z') })).toStrictEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    // exactly at midnight the 4th has just begun
    expect(listPartitions(s, { now: at('2024-01-04T05:00:00Z') })).toStrictEqual(['2024-01-01', '2024-01-02', '2024-01-03']);
    expect(listPartitions(s, { now: at('2024-01-04T04:59:59Z') })).toStrictEqual(['2024-01-01', '2024-01-02']);
  });

  it('stops at the end when it is earlier than now, and lists nothing before the first partition completes', () => {
    const s = daily({ start: '2024-01-01', end: '2024-01-02' });
    expect(listPartitions(s, { now: FAR_FUTURE })).toStrictEqual(['2024-01-01', '2024-01-02']);
    expect(listPartitions(s, { now: at('2024-01-01T12:00:00Z') })).toStrictEqual([]);
  });

  it('lists an explicit from..to inclusive', () => {
    const s = daily({ start: '2024-01-01' });
    expect(listPartitions(s, { from: '2024-02-28', to: '2024-03-01', now: FAR_FUTURE })).toStrictEqual([
      '2024-02-28',
      '2024-02-29',
      '2024-03-01',
    ]);
  });
});

describe('partitionSpecIssues', () => {
  it('finds nothing wrong with valid specs', () => {
    const valid: PartitionSpec[] = [
      hourly({ start: '2024-01-01T05', end: '2024-11-03T01b', timezone: 'America/New_York' }),
      daily({ start: '2024-01-01' }),
      weekly({ start: '2024-W01', end: '2024-12-31' }),
      monthly({ start: '2024-01', timezone: 'Asia/Kolkata' }),
      staticPartitions(['eu', 'us-east.1', 'A_b']),
      multiPartitions({ date: daily({ start: '2024-01-01' }), region: staticPartitions(['eu', 'us']), tier: staticPartitions(['a']) }),
    ];
    expect(valid.map(partitionSpecIssues)).toStrictEqual(valid.map(() => []));
  });

  it.each<[string, PartitionSpec, string[]]>([
    [
      'an unknown time zone',
      daily({ start: '2024-01-01', timezone: 'Mars/Olympus' }),
      ['time zone "Mars/Olympus" is not a known IANA time zone; use a name such as "UTC" or "America/New_York"'],
    ],
    [
      'a start that is not a key or date',
      monthly({ start: '2024/01' }),
      ['start "2024/01" is neither a monthly partition key nor an ISO date; write it like "2024-01" or "2024-01-01"'],
    ],
    [
      'an impossible date',
      daily({ start: '2024-02-30' }),
      ['start "2024-02-30" is neither a daily partition key nor an ISO date; write it like "2024-01-01" or "2024-01-01"'],
    ],
    [
      'an end that is not a key or date',
      weekly({ start: '2024-W01', end: '2024-W54' }),
      ['end "2024-W54" is neither a weekly partition key nor an ISO date; write it like "2024-W01" or "2024-01-01"'],
    ],
    [
      'a start hour the zone skips',
      hourly({ start: '2024-03-10T02', timezone: 'America/New_York' }),
      [
        'start partition "2024-03-10T02" does not exist in America/New_York: a daylight-saving change skips that hour, or it occurs only once (a "b" suffix marks only the second occurrence of a repeated hour)',
      ],
    ],
    [
      'a start after the end',
      daily({ start: '2024-02-01', end: '2024-01-31' }),
      ['start "2024-02-01" (partition 2024-02-01) is after end "2024-01-31" (partition 2024-01-31); make start the earlier of the two'],
    ],
    [
      'a missing start',
      { kind: 'daily' } as unknown as PartitionSpec,
      ['start is missing; give the first partition as a key or an ISO date, e.g. "2024-01-01"'],
    ],
    [
      'an unknown kind',
      { kind: 'yearly', start: '2024' } as unknown as PartitionSpec,
      ['unknown partition kind "yearly"; use hourly(), daily(), weekly(), monthly(), staticPartitions() or multiPartitions()'],
    ],
    [
      'no static keys',
      staticPartitions([]),
      [`staticPartitions([]) has no keys; list at least one, e.g. staticPartitions(['eu', 'us'])`],
    ],
    [
      'bad static keys',
      staticPartitions(['eu', 'eu', '', 'us|west', 'north america']),
      [
        'static key "eu" appears 2 times; list each key once',
        'static key "" is empty; give every key at least one character from [A-Za-z0-9_.-]',
        'static key "us|west" contains "|", which joins the dimensions of multi-partition keys; use only [A-Za-z0-9_.-]',
        'static key "north america" contains characters outside [A-Za-z0-9_.-]; use only letters, digits, "_", "." and "-"',
      ],
    ],
    [
      'a single dimension',
      multiPartitions({ date: daily({ start: '2024-01-01' }) }),
      ['multiPartitions() has 1 dimension(s) (date); give at least two, or use the single partition spec directly'],
    ],
    [
      'two time dimensions',
      multiPartitions({ day: daily({ start: '2024-01-01' }), hour: hourly({ start: '2024-01-01' }) }),
      ['multiPartitions() has 2 time dimensions (day, hour); keep one time dimension and make the others staticPartitions()'],
    ],
    [
      'a time dimension after a static one',
      multiPartitions({ region: staticPartitions(['eu', 'us']), date: daily({ start: '2024-01-01' }) }),
      ['the time dimension "date" of multiPartitions() is not the first; declare it first so that keys sort in time order'],
    ],
    [
      'a nested multi and a bad dimension',
      multiPartitions({
        date: daily({ start: '2024-01-01', timezone: 'Nowhere' }),
        inner: multiPartitions({ a: staticPartitions(['x']), b: staticPartitions(['y']) }) as never,
      }),
      [
        'dimension "date": time zone "Nowhere" is not a known IANA time zone; use a name such as "UTC" or "America/New_York"',
        'dimension "inner" is itself a multiPartitions(); list its dimensions directly in the outer multiPartitions()',
      ],
    ],
  ])('fails %s, naming the value and the fix', (_, badSpec, issues) => {
    expect(partitionSpecIssues(badSpec)).toStrictEqual(issues);
  });

  it('fails functions given an invalid spec with every issue', () => {
    const bad = daily({ start: '2024-01-01', timezone: 'Mars/Olympus' });
    expect(() => partitionKeyAt(bad, at('2024-01-01T00:00:00Z'))).toThrow(PartitionSpecError);
    expect(() => listPartitions(bad, { now: FAR_FUTURE })).toThrow(
      'Invalid partition spec:\n  - time zone "Mars/Olympus" is not a known IANA time zone',
    );
  });
});

describe('parsePartitionKey', () => {
  const s = daily({ start: '2024-01-01', end: '2024-12-31', timezone: 'America/New_York' });
  const multi = multiPartitions({ date: s, region: staticPartitions(['eu', 'us']) });

  it('accepts keys of the spec', () => {
    expect(parsePartitionKey(s, '2024-06-30')).toStrictEqual({ ok: true });
    expect(parsePartitionKey(staticPartitions(['eu', 'us']), 'us')).toStrictEqual({ ok: true });
    expect(parsePartitionKey(multi, '2024-06-30|eu')).toStrictEqual({ ok: true });
    expect(parsePartitionKey(hourly({ start: '2024-01-01', timezone: 'America/New_York' }), '2024-11-03T01b')).toStrictEqual({ ok: true });
  });

  it.each<[string, PartitionSpec, string, string]>([
    ['a malformed key', s, '2024-6-30', '"2024-6-30" is not a daily partition key; expected YYYY-MM-DD, e.g. 2024-01-01'],
    ['an hourly key of a daily spec', s, '2024-06-30T01', '"2024-06-30T01" is not a daily partition key; expected YYYY-MM-DD, e.g. 2024-01-01'],
    ['a malformed week', weekly({ start: '2024-01-01' }), '2024-W1', '"2024-W1" is not a weekly partition key; expected YYYY-Www, e.g. 2024-W01'],
    ['a key before start', s, '2023-12-31', 'partition "2023-12-31" is before the first partition "2024-01-01"'],
    ['a key after end', s, '2025-01-01', 'partition "2025-01-01" is after the last partition "2024-12-31"'],
    ['an unknown static key', staticPartitions(['eu', 'us']), 'fr', '"fr" is not one of the static partition keys (eu, us)'],
    [
      'a multi key with too few parts',
      multi,
      '2024-06-30',
      '"2024-06-30" has 1 part(s) but the partitions have 2 dimensions (date|region); join one key per dimension with "|"',
    ],
    ['a multi key with a bad dimension', multi, '2024-06-30|fr', 'dimension "region": "fr" is not one of the static partition keys (eu, us)'],
    ['a multi key in the wrong order', multi, 'eu|2024-06-30', 'dimension "date": "eu" is not a daily partition key; expected YYYY-MM-DD, e.g. 2024-01-01'],
  ])('fails %s with the reason', (_, partitionSpec, key, reason) => {
    expect(parsePartitionKey(partitionSpec, key)).toStrictEqual({ ok: false, reason });
  });
});

describe('listPartitions of static and multi partitions', () => {
  const regions = staticPartitions(['eu', 'us', 'ap']);

  it('lists static keys in declared order, optionally a slice', () => {
    expect(listPartitions(regions, { now: FAR_FUTURE })).toStrictEqual(['eu', 'us', 'ap']);
    expect(listPartitions(regions, { from: 'us', to: 'ap', now: FAR_FUTURE })).toStrictEqual(['us', 'ap']);
  });

  it('lists the cartesian product, time dimension major, parts in dimension order', () => {
    const m = multiPartitions({ date: daily({ start: '2024-01-01', end: '2024-01-02' }), region: regions, tier: staticPartitions(['a', 'b']) });
    expect(listPartitions(m, { now: FAR_FUTURE })).toStrictEqual([
      '2024-01-01|eu|a', '2024-01-01|eu|b', '2024-01-01|us|a', '2024-01-01|us|b', '2024-01-01|ap|a', '2024-01-01|ap|b',
      '2024-01-02|eu|a', '2024-01-02|eu|b', '2024-01-02|us|a', '2024-01-02|us|b', '2024-01-02|ap|a', '2024-01-02|ap|b',
    ]);
  });

  it('takes from/to as keys of the time dimension', () => {
    const m = multiPartitions({ date: daily({ start: '2024-01-01' }), region: staticPartitions(['eu', 'us']) });
    expect(listPartitions(m, { from: '2024-03-01', to: '2024-03-01', now: FAR_FUTURE })).toStrictEqual(['2024-03-01|eu', '2024-03-01|us']);
  });

  it('lists every combination when no dimension is time', () => {
    const m = multiPartitions({ region: staticPartitions(['eu', 'us']), tier: staticPartitions(['a', 'b']) });
    expect(listPartitions(m, { now: FAR_FUTURE })).toStrictEqual(['eu|a', 'eu|b', 'us|a', 'us|b']);
  });
});

describe('listPartitions failures', () => {
  it(`fails a range of more than ${MAX_LISTED_PARTITIONS} keys before enumerating it`, () => {
    const started = Date.now();
    expect(() => listPartitions(hourly({ start: '2000-01-01' }), { now: at('2030-01-01T00:00:00Z') })).toThrow(
      'the range 2000-01-01T00..2029-12-31T23 holds more than 100,000 partitions; list a narrower range with from and to',
    );
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails a multi range whose product exceeds the cap, naming the time dimension', () => {
    const m = multiPartitions({ date: daily({ start: '2000-01-01' }), region: staticPartitions(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j']) });
    expect(() => listPartitions(m, { now: at('2030-01-01T00:00:00Z') })).toThrow(
      'the range 2000-01-01..2029-12-31 of dimension "date" times 10 static combinations holds more than 100,000 partitions',
    );
  });

  it('fails from after to', () => {
    expect(() => listPartitions(daily({ start: '2024-01-01' }), { from: '2024-02-01', to: '2024-01-01', now: FAR_FUTURE })).toThrow(
      'from "2024-02-01" is after to "2024-01-01"; give the earlier key as from',
    );
    expect(() => listPartitions(staticPartitions(['eu', 'us']), { from: 'us', to: 'eu', now: FAR_FUTURE })).toThrow(
      'from "us" comes after to "eu" in the static keys; swap them',
    );
  });

  it('fails from/to that are not keys of the spec', () => {
    expect(() => listPartitions(daily({ start: '2024-01-01' }), { from: '2023-12-31', now: FAR_FUTURE })).toThrow(
      'from: partition "2023-12-31" is before the first partition "2024-01-01"',
    );
    expect(() => listPartitions(daily({ start: '2024-01-01' }), { to: 'soon', now: FAR_FUTURE })).toThrow(
      'to: "soon" is not a daily partition key; expected YYYY-MM-DD, e.g. 2024-01-01',
    );
    expect(() => listPartitions(staticPartitions(['eu']), { from: 'us', now: FAR_FUTURE })).toThrow(
      'from: "us" is not one of the static partition keys (eu)',
    );
  });

  it('fails from/to on multi-partitions without a time dimension', () => {
    const m = multiPartitions({ region: staticPartitions(['eu']), tier: staticPartitions(['a']) });
    expect(() => listPartitions(m, { from: 'eu', now: FAR_FUTURE })).toThrow(
      'from and to select keys of the time dimension, and these multi-partitions have none; omit them',
    );
  });
});

describe('partitionForScheduledTime', () => {
  const nyDaily = daily({ start: '2024-01-01', end: '2024-12-31', timezone: 'America/New_York' });

  it('runs the last complete partition before the scheduled time', () => {
    // Given a daily schedule firing at 02:00 New York on 2024-01-02
    const result = partitionForScheduledTime(nyDaily, at('2024-01-02T07:00:00Z'));
    // Then it runs the 1st, as an Airflow data interval would
    expect(result).toStrictEqual({ kind: 'run', partition: '2024-01-01' });
  });

  it.each<[string, TimePartitions, string, string]>([
    ['daily at midnight', nyDaily, '2024-03-10T05:00:00Z', '2024-03-09'],
    ['hourly at the top of the hour', hourly({ start: '2024-01-01' }), '2024-01-01T05:00:00Z', '2024-01-01T04'],
    ['hourly after the repeated hour', hourly({ start: '2024-01-01', timezone: 'America/New_York' }), '2024-11-03T07:00:00Z', '2024-11-03T01b'],
    ['hourly after the spring-forward gap', hourly({ start: '2024-01-01', timezone: 'America/New_York' }), '2024-03-10T07:00:00Z', '2024-03-10T01'],
    ['weekly on Monday', weekly({ start: '2024-01-01' }), '2024-01-08T01:00:00Z', '2024-W01'],
    ['monthly on the 1st', monthly({ start: '2024-01-01', timezone: 'Asia/Kolkata' }), '2024-02-29T19:00:00Z', '2024-02'],
  ])('maps %s', (_, s, scheduled, partition) => {
    expect(partitionForScheduledTime(s, at(scheduled))).toStrictEqual({ kind: 'run', partition });
  });

  it('runs "default" for an unpartitioned pipeline', () => {
    expect(partitionForScheduledTime(undefined, at('2024-01-02T07:00:00Z'))).toStrictEqual({ kind: 'run', partition: 'default' });
  });

  it('skips a tick before the first partition is complete, and after the last', () => {
    expect(partitionForScheduledTime(nyDaily, at('2024-01-01T07:00:00Z'))).toStrictEqual({
      kind: 'skip',
      reason: 'at 2024-01-01T07:00:00.000Z the last complete partition is 2023-12-31, before the first partition 2024-01-01',
    });
    expect(partitionForScheduledTime(nyDaily, at('2025-01-02T07:00:00Z'))).toStrictEqual({
      kind: 'skip',
      reason: 'at 2025-01-02T07:00:00.000Z the last complete partition is 2025-01-01, after the last partition 2024-12-31',
    });
    // the tick on the day after the end still runs the end
    expect(partitionForScheduledTime(nyDaily, at('2025-01-01T07:00:00Z'))).toStrictEqual({ kind: 'run', partition: '2024-12-31' });
  });

  it('skips static and multi-partitions, which a schedule cannot choose', () => {
    expect(partitionForScheduledTime(staticPartitions(['eu']), at('2024-01-02T07:00:00Z'))).toStrictEqual({
      kind: 'skip',
      reason: 'a schedule cannot choose one static partition key; use partitionsForScheduledTime() to run every static key',
    });
    const m = multiPartitions({ date: nyDaily, region: staticPartitions(['eu']) });
    expect(partitionForScheduledTime(m, at('2024-01-02T07:00:00Z'))).toStrictEqual({
      kind: 'skip',
      reason: 'a schedule cannot choose one multi-partition key; use partitionsForScheduledTime() to run every static key',
    });
  });
});

describe('partitionsForScheduledTime', () => {
  const nyDaily = daily({ start: '2024-01-01', end: '2024-12-31', timezone: 'America/New_York' });

  it('fans a tick out over every static key combined with the time key', () => {
    const m = multiPartitions({ date: nyDaily, region: staticPartitions(['eu', 'us']) });
    expect(partitionsForScheduledTime(m, at('2024-01-02T07:00:00Z'))).toStrictEqual({
      kind: 'run',
      partitions: ['2024-01-01|eu', '2024-01-01|us'],
    });
  });

  it('runs every static key, every static combination, the single time key, or "default"', () => {
    const tick = at('2024-01-02T07:00:00Z');
    expect(partitionsForScheduledTime(staticPartitions(['eu', 'us']), tick)).toStrictEqual({ kind: 'run', partitions: ['eu', 'us'] });
    expect(
      partitionsForScheduledTime(multiPartitions({ r: staticPartitions(['eu']), t: staticPartitions(['a', 'b']) }), tick),
    ).toStrictEqual({ kind: 'run', partitions: ['eu|a', 'eu|b'] });
    expect(partitionsForScheduledTime(nyDaily, tick)).toStrictEqual({ kind: 'run', partitions: ['2024-01-01'] });
    expect(partitionsForScheduledTime(undefined, tick)).toStrictEqual({ kind: 'run', partitions: ['default'] });
  });

  it('skips a multi tick whose time key is out of range', () => {
    const m = multiPartitions({ date: nyDaily, region: staticPartitions(['eu']) });
    expect(partitionsForScheduledTime(m, at('2024-01-01T07:00:00Z'))).toStrictEqual({
      kind: 'skip',
      reason: 'at 2024-01-01T07:00:00.000Z the last complete partition is 2023-12-31, before the first partition 2024-01-01',
    });
  });
});
