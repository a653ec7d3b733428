/**
 * What an S3 arrival means for a pipeline: the EventBridge `Object Created` event checked, its
 * key decoded, and the partition it starts found by the pipeline's `s3Arrival` triggers.
 */
import type { LauncherConfig } from '../lib/compile/contract';
import { UNPARTITIONED_KEY } from '../lib/compile/model';
import { parsePartitionKey, partitionKeyAt } from '../lib/compile/partition-keys';
import { describeIssue, objectCreatedEventSchema, safeParse } from './schemas';

/** Logical bucket name (as in pipeline definitions) → deployed bucket name. */
export type BucketNames = Readonly<Record<string, string>>;

/** The object an `Object Created` event is about, its key URL-decoded. */
export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  /** The object's content: equal ETags, equal content. */
  readonly etag: string;
  /** Orders events of one key: a larger sequencer (hexadecimal) is a later write. */
  readonly sequencer: string;
  /** Present in a bucket with versioning on. */
  readonly versionId?: string;
}

/**
 * What an S3 `Object Created` event means for a pipeline. `ignore` is a normal outcome (the key
 * matches no trigger); `invalid` (a key whose partition fails validation) and `malformed` (not an
 * `Object Created` event, or one missing a field the launch needs) can never start a run and must
 * not be silently dropped.
 */
export type S3EventDecision =
  | { readonly kind: 'run'; readonly partition: string; readonly trigger: 's3'; readonly object: S3ObjectRef }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/** Maps an EventBridge `Object Created` event (as parsed JSON, unvalidated) to the run it starts. */
export function partitionFromS3Event(config: LauncherConfig, bucketNames: BucketNames, event: unknown): S3EventDecision {
  const parsed = parseObjectCreated(event);
  if (!parsed.ok) return { kind: 'malformed', reason: parsed.reason };
  const { object, time } = parsed;
  const where = `s3://${object.bucket}/${object.key}`;

  const candidates = config.triggers.filter(
    (t) =>
      bucketNames[t.bucket] === object.bucket &&
      object.key.startsWith(t.prefix ?? '') &&
      object.key.endsWith(t.suffix ?? ''),
  );
  if (candidates.length === 0) {
    return { kind: 'ignore', reason: `${where} matches no s3Arrival trigger (bucket, prefix, suffix) of pipeline "${config.name}"` };
  }

  for (const trigger of candidates) {
    const spec = config.partitions;
    if (!spec) return { kind: 'run', partition: UNPARTITIONED_KEY, trigger: 's3', object };

    let partition: string;
    if (trigger.partitionFromKey) {
      const regex = new RegExp(trigger.partitionFromKey.source, trigger.partitionFromKey.flags);
      const match = regex.exec(object.key);
      if (!match) continue;
      const captured = match.groups?.partition;
      if (captured === undefined) {
        return { kind: 'invalid', reason: `${where}: partitionFromKey /${regex.source}/ matched but captured no group "partition"` };
      }
      partition = captured;
    } else if (spec.kind === 'static' || spec.kind === 'multi') {
      return {
        kind: 'invalid',
        reason: `${where}: pipeline "${config.name}" has ${spec.kind} partitions, so its s3Arrival trigger needs partitionFromKey`,
      };
    } else {
      partition = partitionKeyAt(spec, time);
    }

    const valid = parsePartitionKey(spec, partition);
    if (!valid.ok) return { kind: 'invalid', reason: `${where}: partition "${partition}" is not valid: ${valid.reason}` };
    return { kind: 'run', partition, trigger: 's3', object };
  }
  return {
    kind: 'ignore',
    reason: `${where} matches no partitionFromKey of the s3Arrival triggers of pipeline "${config.name}"`,
  };
}

type ParsedObjectCreated =
  | { readonly ok: true; readonly object: S3ObjectRef; readonly time: Date }
  | { readonly ok: false; readonly reason: string };

function parseObjectCreated(event: unknown): ParsedObjectCreated {
  const fail = (reason: string): ParsedObjectCreated => ({ ok: false, reason });
  const parsed = safeParse(objectCreatedEventSchema, event);
  if (!parsed.success) return fail(`the event ${describeIssue(parsed.error)}`);
  const { time, detail } = parsed.data;
  const { key: encodedKey, etag, sequencer, 'version-id': versionId } = detail.object;
  let key: string;
  try {
    // S3 URL-encodes keys in events, with `+` for a space (form encoding).
    key = decodeURIComponent(encodedKey.replace(/\+/g, ' '));
  } catch {
    return fail(`the object key ${JSON.stringify(encodedKey)} is not valid URL encoding`);
  }
  return {
    ok: true,
    object: { bucket: detail.bucket.name, key, etag, sequencer, ...(versionId !== undefined && { versionId }) },
    time: new Date(time),
  };
}
