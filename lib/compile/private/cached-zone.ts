import { FixedOffsetZone, IANAZone, type Zone } from 'luxon';

const DAY_MS = 86_400_000;

/**
 * An IANA zone that remembers its UTC offsets by UTC day. Luxon asks `Intl` for the offset of
 * every instant it converts (several per partition key), which made listing 100,000 keys take
 * tens of seconds. A day whose first and last millisecond have the same offset has that offset
 * throughout, as no zone of the time zone database changes its offset and back within one day;
 * a day holding a transition is always asked exactly.
 */
class OffsetCachingZone extends IANAZone {
  private readonly days = new Map<number, number>();

  override offset(ts: number): number {
    const day = Math.floor(ts / DAY_MS);
    const known = this.days.get(day);
    if (known !== undefined) return known;
    const first = super.offset(day * DAY_MS);
    const last = super.offset(day * DAY_MS + DAY_MS - 1);
    if (first !== last) return super.offset(ts);
    // Bounded: one entry per day of the instants converted.
    if (this.days.size > 1_000_000) this.days.clear();
    this.days.set(day, first);
    return first;
  }
}

const zones = new Map<string, Zone>();

/**
 * The zone named `name` (an IANA name), with cached offsets; one instance per name. UTC, which
 * never changes its offset, is luxon's fixed-offset zone: no `Intl` call at all.
 */
export function cachedZone(name: string): Zone {
  if (name === 'UTC' || name === 'Etc/UTC') return FixedOffsetZone.utcInstance;
  let zone = zones.get(name);
  if (!zone) {
    zone = new OffsetCachingZone(name);
    zones.set(name, zone);
  }
  return zone;
}
