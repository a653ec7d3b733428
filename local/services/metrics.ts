/**
 * CloudWatch's embedded metric format (EMF), locally: on AWS, CloudWatch Logs turns the JSON lines
 * a function prints with an `_aws.CloudWatchMetrics` header into metrics. Locally the functions
 * print the same lines (Powertools metrics), and this sums them per metric and pipeline, so that
 * `sluice dev` can show what the launcher counted (started, duplicate, ignored, malformed...).
 *
 * @see https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** One metric value a function emitted. */
export interface MetricSample {
  readonly namespace: string;
  readonly name: string;
  /** The `pipeline` dimension, when the metric has one. */
  readonly pipeline?: string;
  readonly value: number;
  /** The sum of this metric (same namespace, name and pipeline) since the runtime started. */
  readonly total: number;
}

/** Sums of the metrics functions emitted, fed line by line. */
export class LocalMetrics {
  private readonly totals = new Map<string, number>();
  private readonly listeners = new Set<(sample: MetricSample) => void>();

  /** Takes one line a function printed; lines that are not EMF are ignored. */
  ingest(line: string): void {
    if (!line.startsWith('{') || !line.includes('"_aws"')) return;
    let document: Record<string, unknown>;
    try {
      document = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    const header = (document._aws as { CloudWatchMetrics?: { Namespace?: string; Metrics?: { Name?: string }[] }[] } | undefined)
      ?.CloudWatchMetrics;
    if (!Array.isArray(header)) return;
    const pipeline = typeof document.pipeline === 'string' ? document.pipeline : undefined;
    for (const directive of header) {
      for (const metric of directive.Metrics ?? []) {
        const raw = metric.Name === undefined ? undefined : document[metric.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((v): v is number => typeof v === 'number');
        const value = values.reduce((sum, v) => sum + v, 0);
        if (metric.Name === undefined || values.length === 0) continue;
        const namespace = directive.Namespace ?? '';
        const key = JSON.stringify([namespace, metric.Name, pipeline ?? null]);
        const total = (this.totals.get(key) ?? 0) + value;
        this.totals.set(key, total);
        const sample: MetricSample = { namespace, name: metric.Name, ...(pipeline !== undefined && { pipeline }), value, total };
        for (const listener of this.listeners) listener(sample);
      }
    }
  }

  /** The sum of a metric, for one pipeline or all. */
  total(name: string, pipeline?: string): number {
    let sum = 0;
    for (const [key, total] of this.totals) {
      const [, metric, of] = JSON.parse(key) as [string, string, string | null];
      if (metric === name && (pipeline === undefined || of === pipeline)) sum += total;
    }
    return sum;
  }

  /** Every sum, as `{ pipeline: { metric: total } }` (`-` for metrics without a pipeline). */
  snapshot(): Record<string, Record<string, number>> {
    const result: Record<string, Record<string, number>> = {};
    for (const [key, total] of this.totals) {
      const [, metric, pipeline] = JSON.parse(key) as [string, string, string | null];
      (result[pipeline ?? '-'] ??= {})[metric] = total;
    }
    return result;
  }

  /** Calls `listener` for every value ingested. Returns the function that removes it. */
  onSample(listener: (sample: MetricSample) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Feeds every line written to this process's stdout to `ingest`, as well as writing it: the
 * functions run in this process (or write through it), and print their metrics there. Returns
 * the function that stops it.
 */
export function tapStdout(ingest: (line: string) => void): () => void {
  const previous = process.stdout.write;
  let pending = '';
  const tapped = function (this: NodeJS.WriteStream, chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    const text = pending + (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const lines = text.split('\n');
    pending = (lines.pop() ?? '').slice(-1_000_000);
    for (const line of lines) ingest(line);
    return (previous as (...args: unknown[]) => boolean).call(process.stdout, chunk, ...rest);
  } as typeof process.stdout.write;
  process.stdout.write = tapped;
  return () => {
    if (process.stdout.write === tapped) process.stdout.write = previous;
  };
}
