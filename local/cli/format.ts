import type { PartitionSpec } from '../../lib/definitions/partitions';

/** Renders rows as a plain-text table: columns padded to their widest cell, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, i) => Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

const ANSI = /\u001b\[[0-9;]*m/g;

function visibleLength(text: string): number {
  return text.replace(ANSI, '').length;
}

const STATUS_COLORS: Readonly<Record<string, string>> = {
  SUCCEEDED: '32',
  FAILED: '31',
  TIMED_OUT: '31',
  ABORTED: '31',
  CANCELLED: '33',
  SKIPPED: '33',
  RUNNING: '33',
  MISSING: '2',
};

/** A status, coloured when `color` (a terminal). */
export function status(text: string, color: boolean): string {
  const code = STATUS_COLORS[text];
  return color && code ? `\u001b[${code}m${text}\u001b[0m` : text;
}

/** `0.2 s`, `12.5 s`, `3 min 04 s`. */
export function duration(ms: number | undefined): string {
  if (ms === undefined || Number.isNaN(ms)) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}

/** Milliseconds between two ISO instants, when both are known. */
export function elapsed(start: string | undefined, end: string | undefined): number | undefined {
  return start && end ? Date.parse(end) - Date.parse(start) : undefined;
}

/** `2024-03-01 06:00:05Z`: UTC to the second, readable and unambiguous. */
export function instant(iso: string | undefined): string {
  return iso ? new Date(iso).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z') : '';
}

/**
 * The message of a Step Functions `Cause`: for a Lambda error a JSON string holding
 * `errorMessage`; for anything else the text itself.
 */
export function causeMessage(cause: string | undefined): string | undefined {
  if (cause === undefined || cause === '') return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; Cause?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.Cause === 'string') return causeMessage(parsed.Cause);
  } catch {
    // Not JSON: the cause is the message.
  }
  return cause;
}

/**
 * `SourceUnavailableError: source unavailable`, or just one of them: the message alone when the
 * error is a plain `Error` (`new Error('no files')`), whose name says nothing the line does not.
 */
export function errorLine(error: string | undefined, cause: string | undefined): string {
  const message = causeMessage(cause);
  if (!error || (error === 'Error' && message)) return message ?? '';
  return message && message !== error ? `${error}: ${message}` : error;
}

/** `daily from 2024-01-01 (America/New_York)`, `static: eu, us`, `multi: date (daily) × region (static)`. */
export function describePartitions(spec: PartitionSpec | undefined): string {
  if (!spec) return 'none';
  switch (spec.kind) {
    case 'static':
      return `static: ${spec.keys.join(', ')}`;
    case 'multi':
      return `multi: ${Object.entries(spec.dimensions)
        .map(([name, dimension]) => `${name} (${dimension.kind})`)
        .join(' × ')}`;
    default:
      return `${spec.kind} from ${spec.start}${spec.end ? ` to ${spec.end}` : ''} (${spec.timezone ?? 'UTC'})`;
  }
}

/** `0 6 * * * America/New_York`. */
export function describeSchedule(schedule: { readonly cron: string; readonly timezone?: string } | undefined): string {
  return schedule ? `${schedule.cron} ${schedule.timezone ?? 'UTC'}` : '';
}

/** `s3://raw/sales/*.csv`: the keys that start a run, in the logical bucket (or the one named). */
export function describeTrigger(trigger: { readonly bucket: string; readonly prefix?: string; readonly suffix?: string }, bucket: string = trigger.bucket): string {
  return `s3://${bucket}/${trigger.prefix ?? ''}*${trigger.suffix ?? ''}`;
}
