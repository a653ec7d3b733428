import { createHash } from 'node:crypto';

/**
 * Exactly once per (partition, data version): what a partition's launches have consumed, and the
 * rule deciding whether an arriving event is new data.
 *
 * Every trigger that carries data names a *source* (one S3 object, the pipeline's schedule, an
 * upstream pipeline) and a *version* of it (an object's ETag, a tick's scheduled time). A partition
 * remembers, per source, the latest version its runs have seen or will see. An event is new data
 * when its version is later than the one remembered (by S3 `sequencer`, by scheduled time) and
 * differs from it; a redelivered event is not later, and an identical re-upload is later but the
 * same content. This module is pure: the partition store keeps the list, the launch applies it.
 */

/** One version of one source, as an event carries it. */
export interface SourceVersion {
  /** Exact identity of the source: `s3:<digest of bucket and key>`, `schedule`. */
  readonly source: string;
  /** What a reader sees: `s3://bucket/key` (cut to {@link LABEL_MAX} characters), `schedule`. */
  readonly label: string;
  /** The content: an S3 object's ETag, a tick's scheduled time (ISO-8601). */
  readonly version: string;
  /**
   * Orders the events of one source, as hexadecimal (S3's `sequencer`; a tick's scheduled time in
   * epoch milliseconds): a larger value is a later event.
   */
  readonly order: string;
  /** An S3 object's version id, in a bucket with versioning on. */
  readonly versionId?: string;
}

/** A version a partition's runs have consumed. */
export interface ConsumedVersion extends SourceVersion {
  /** The run of the partition that sees this version (the next one when a rerun was requested). */
  readonly runNumber: number;
  /** ISO-8601 instant it was consumed. */
  readonly at: string;
}

/**
 * How many sources a partition remembers: the list lives in the partition's DynamoDB item (400 KB
 * at most) and is rewritten by every launch, so it is bounded; the oldest consumed is forgotten
 * first. An event for a forgotten source counts as new data.
 */
export const CONSUMED_MAX = 100;

/** Characters of an S3 label kept: keys can be 1,024 bytes long, and the label is only for reading. */
export const LABEL_MAX = 160;

/** Whether an event is new data for a partition (see the module's comment). */
export type ConsumeDecision =
  | { readonly kind: 'new'; readonly previous?: ConsumedVersion }
  | {
      /** The same event (same S3 version id, or not later than the version remembered) delivered again. */
      readonly kind: 'duplicate';
      readonly reason: string;
    }
  | {
      /** A later event with the same content (an identical re-upload): nothing new to process. */
      readonly kind: 'unchanged';
      readonly reason: string;
    };

/** Applies the rule to an arriving version, given what the partition has consumed. */
export function judgeVersion(consumed: readonly ConsumedVersion[], arriving: SourceVersion): ConsumeDecision {
  const previous = consumed.find((c) => c.source === arriving.source);
  if (!previous) return { kind: 'new' };
  const seen = `${arriving.label} was consumed by run ${previous.runNumber} at ${previous.at}`;
  if (arriving.versionId !== undefined && arriving.versionId === previous.versionId) {
    return { kind: 'duplicate', reason: `${seen} (same version id ${arriving.versionId})` };
  }
  if (compareOrder(arriving.order, previous.order) <= 0) {
    return { kind: 'duplicate', reason: `${seen} (this event is not later: ${arriving.order} ≤ ${previous.order})` };
  }
  if (arriving.version === previous.version) {
    return { kind: 'unchanged', reason: `${seen} with the same content (${arriving.version})` };
  }
  return { kind: 'new', previous };
}

/**
 * The consumed list with `version` recorded as consumed by `runNumber` at `now`, replacing what the
 * list held for its source, at most {@link CONSUMED_MAX} entries (the oldest dropped first).
 */
export function withConsumed(
  consumed: readonly ConsumedVersion[],
  version: SourceVersion,
  runNumber: number,
  now: Date,
): ConsumedVersion[] {
  const entry: ConsumedVersion = { ...version, runNumber, at: now.toISOString() };
  const others = consumed.filter((c) => c.source !== version.source);
  const kept = others.length >= CONSUMED_MAX ? [...others].sort((a, b) => a.at.localeCompare(b.at)).slice(others.length - CONSUMED_MAX + 1) : others;
  return [...kept, entry];
}

/** Whether a run consumed anything: if its launch fails, that data still needs a run. */
export function consumedBy(consumed: readonly ConsumedVersion[], runNumber: number): boolean {
  return consumed.some((c) => c.runNumber === runNumber);
}

/** Compares two hexadecimal strings by value (S3 sequencers may differ in length). */
export function compareOrder(a: string, b: string): number {
  const x = a.toLowerCase().replace(/^0+/, '');
  const y = b.toLowerCase().replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The version of an S3 object an `Object Created` event announces. */
export function s3Version(object: { bucket: string; key: string; etag: string; sequencer: string; versionId?: string }): SourceVersion {
  const label = `s3://${object.bucket}/${object.key}`;
  return {
    source: `s3:${createHash('sha256').update(`${object.bucket}/${object.key}`, 'utf8').digest('base64url').slice(0, 22)}`,
    label: label.length > LABEL_MAX ? `${label.slice(0, LABEL_MAX - 1)}…` : label,
    version: object.etag,
    order: object.sequencer,
    ...(object.versionId !== undefined && { versionId: object.versionId }),
  };
}

/** The version a schedule tick carries: its scheduled time. */
export function scheduleVersion(scheduledTime: Date): SourceVersion {
  return {
    source: 'schedule',
    label: 'schedule',
    version: scheduledTime.toISOString(),
    order: scheduledTime.getTime().toString(16),
  };
}
