/**
 * Partition keys: what they look like, which instants they cover, and how to enumerate them. One
 * job per module under partitions/: time keys (time-keys.ts), spec and key checks (spec.ts),
 * listing a range (listing.ts), the partitions of a schedule tick (scheduled.ts).
 *
 * Keys by granularity, all in the spec's IANA time zone (default `UTC`):
 * - hourly `2024-01-01T05`: a local wall-clock hour;
 * - daily `2024-01-01`: a local calendar day, from its first instant (usually midnight);
 * - weekly `2024-W01`: an ISO week (Monday to Sunday) numbered in its ISO week-year, so
 *   2020-12-31 is in `2020-W53` and 2021-01-04 starts `2021-W01`;
 * - monthly `2024-01`: a calendar month.
 *
 * Daylight saving time (hourly keys):
 * - Spring forward: the skipped wall-clock hour has no key (`2024-03-10T02` does not exist in
 *   America/New_York). Where only part of an hour is skipped (Australia/Lord_Howe's 30-minute
 *   shift), the hour keeps a key covering the part that exists.
 * - Fall back: the wall-clock times that occur twice are told apart by a `b` suffix on the second
 *   occurrence: `2024-11-03T01` (01:00 EDT) is followed by `2024-11-03T01b` (01:00 EST), then
 *   `2024-11-03T02`. `T01` sorts before `T01b` (a prefix sorts first) and `T01b` before `T02`,
 *   so keys stay unique and sort in time order as plain strings. Carrying the UTC offset instead
 *   would sort backwards east of UTC (Europe/London repeats 01:00 at `+01:00`, then `+00:00`).
 *   Where a 30-minute shift repeats only half an hour (Australia/Lord_Howe), `T01b` covers just
 *   the repeated half hour.
 * - String order equals time order in every zone whose fall-back repeats at most one wall-clock
 *   hour, which holds for every zone in current use except Antarctica/Troll (a 2-hour shift).
 *
 * A key is valid for a spec when it has the right form, names an instant that exists in the zone,
 * and lies within the spec's `start`..`end`.
 */

export { PartitionKeyError, PartitionSpecError } from './partitions/errors';
export { listPartitions, MAX_LISTED_PARTITIONS, type PartitionRange } from './partitions/listing';
export { partitionForScheduledTime, partitionsForScheduledTime, type ScheduledPartition, type ScheduledPartitions } from './partitions/scheduled';
export { DIMENSION_SEPARATOR, parsePartitionKey, partitionSpecIssues } from './partitions/spec';
export { partitionEnd, partitionKeyAt, partitionStart } from './partitions/time-keys';
