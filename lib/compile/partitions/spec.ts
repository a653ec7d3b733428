import type { MultiPartitions, PartitionSpec, StaticPartitions, TimePartitions } from '../../definitions/partitions';
import { PartitionSpecError } from './errors';
import { type Outcome, parseTimeKey, resolveTimeSpec, timeBounds } from './time-keys';

/** Partition specs checked, and keys checked against a spec (static and multi-partitions included). */

/** Characters allowed in static keys: safe in DynamoDB keys, execution names and CLI arguments. */
const STATIC_KEY_CHARS = /^[A-Za-z0-9_.-]+$/;

/** Separates the dimensions of a multi-partition key. */
export const DIMENSION_SEPARATOR = '|';

function staticSpecIssues(spec: StaticPartitions): string[] {
  if (spec.keys.length === 0) {
    return [`staticPartitions([]) has no keys; list at least one, e.g. staticPartitions(['eu', 'us'])`];
  }
  const issues: string[] = [];
  const counts = new Map<string, number>();
  for (const key of spec.keys) counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const [key, count] of counts) {
    if (count > 1) issues.push(`static key "${key}" appears ${count} times; list each key once`);
    if (key === '') {
      issues.push(`static key "" is empty; give every key at least one character from [A-Za-z0-9_.-]`);
    } else if (key.includes(DIMENSION_SEPARATOR)) {
      issues.push(
        `static key "${key}" contains "|", which joins the dimensions of multi-partition keys; use only [A-Za-z0-9_.-]`,
      );
    } else if (!STATIC_KEY_CHARS.test(key)) {
      issues.push(`static key "${key}" contains characters outside [A-Za-z0-9_.-]; use only letters, digits, "_", "." and "-"`);
    }
  }
  return issues;
}

export function dimensionsOf(spec: MultiPartitions): [string, PartitionSpec][] {
  return Object.entries(spec.dimensions as Readonly<Record<string, PartitionSpec>>);
}

function multiSpecIssues(spec: MultiPartitions): string[] {
  const dims = dimensionsOf(spec);
  const issues: string[] = [];
  if (dims.length < 2) {
    const names = dims.map(([name]) => name).join(', ') || 'none';
    issues.push(
      `multiPartitions() has ${dims.length} dimension(s) (${names}); give at least two, or use the single partition spec directly`,
    );
  }
  const timeDims = dims.filter(([, d]) => d.kind !== 'static' && d.kind !== 'multi').map(([name]) => name);
  if (timeDims.length > 1) {
    issues.push(
      `multiPartitions() has ${timeDims.length} time dimensions (${timeDims.join(', ')}); keep one time dimension and make the others staticPartitions()`,
    );
  } else if (timeDims.length === 1 && dims[0][0] !== timeDims[0]) {
    // Keys join the dimensions in declaration order; only a leading time dimension sorts them in time order.
    issues.push(
      `the time dimension "${timeDims[0]}" of multiPartitions() is not the first; declare it first so that keys sort in time order`,
    );
  }
  for (const [name, dim] of dims) {
    if (dim.kind === 'multi') {
      issues.push(`dimension "${name}" is itself a multiPartitions(); list its dimensions directly in the outer multiPartitions()`);
    } else {
      issues.push(...partitionSpecIssues(dim).map((issue) => `dimension "${name}": ${issue}`));
    }
  }
  return issues;
}

/**
 * Problems with a partition spec, one human-readable sentence each, naming the bad value and the
 * fix. Empty when the spec is valid.
 */
export function partitionSpecIssues(spec: PartitionSpec): string[] {
  switch (spec.kind) {
    case 'static':
      return staticSpecIssues(spec);
    case 'multi':
      return multiSpecIssues(spec);
    default:
      return resolveTimeSpec(spec).issues;
  }
}

export function assertValid(spec: PartitionSpec): void {
  const issues = partitionSpecIssues(spec);
  if (issues.length > 0) throw new PartitionSpecError(issues);
}

export function parseStaticKey(spec: StaticPartitions, key: string): Outcome<number> {
  const index = spec.keys.indexOf(key);
  return index >= 0
    ? { ok: true, value: index }
    : { ok: false, reason: `"${key}" is not one of the static partition keys (${spec.keys.join(', ')})` };
}

function parseSingle(spec: TimePartitions | StaticPartitions, key: string): Outcome<number> {
  return spec.kind === 'static' ? parseStaticKey(spec, key) : parseTimeKey(spec, timeBounds(spec), key);
}

/**
 * Whether `key` names a partition of `spec`: the right form, an instant that exists in the zone,
 * within `start`..`end`; for static partitions one of the keys; for multi-partitions one key per
 * dimension, joined with `|` in dimension order (`2024-01-01|eu`).
 *
 * @throws PartitionSpecError when the spec itself is invalid
 */
export function parsePartitionKey(spec: PartitionSpec, key: string): { ok: true } | { ok: false; reason: string } {
  assertValid(spec);
  if (spec.kind !== 'multi') {
    const parsed = parseSingle(spec, key);
    return parsed.ok ? { ok: true } : parsed;
  }
  const dims = dimensionsOf(spec) as [string, TimePartitions | StaticPartitions][];
  const parts = key.split(DIMENSION_SEPARATOR);
  if (parts.length !== dims.length) {
    const names = dims.map(([name]) => name).join('|');
    return {
      ok: false,
      reason: `"${key}" has ${parts.length} part(s) but the partitions have ${dims.length} dimensions (${names}); join one key per dimension with "|"`,
    };
  }
  for (const [i, [name, dim]] of dims.entries()) {
    const parsed = parseSingle(dim, parts[i]!);
    if (!parsed.ok) return { ok: false, reason: `dimension "${name}": ${parsed.reason}` };
  }
  return { ok: true };
}
