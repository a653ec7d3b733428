import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { cachedZone } from '../../../lib/compile/private/cached-zone';

describe('cachedZone', () => {
  it('gives the offsets Intl gives, minute by minute across transitions', () => {
    // Given zones with daylight saving, a 30-minute shift and a skipped day
    const cases: [string, string][] = [
      ['America/New_York', '2024-03-10T00:00:00Z'],
      ['America/New_York', '2024-11-03T00:00:00Z'],
      ['Australia/Lord_Howe', '2024-04-06T12:00:00Z'],
      ['Pacific/Apia', '2011-12-29T00:00:00Z'],
      ['Europe/London', '1968-10-26T00:00:00Z'],
    ];
    for (const [name, from] of cases) {
      const exact = IANAZone.create(name);
      const cached = cachedZone(name);
      // When every minute of two days around the transition is converted
      const start = Date.parse(from);
      for (let ts = start; ts < start + 2 * 86_400_000; ts += 60_000) {
        // Then the cached offset is the exact one
        expect(cached.offset(ts), `${name} at ${new Date(ts).toISOString()}`).toBe(exact.offset(ts));
      }
    }
  });

  it('serves UTC without a time-zone lookup', () => {
    expect(cachedZone('UTC').isUniversal).toBe(true);
    expect(cachedZone('UTC').offset(Date.parse('2024-07-01T00:00:00Z'))).toBe(0);
  });
});
