import { type CliContext, stageOption } from '../context';
import { withOperations } from '../operations';
import { EXIT, UsageError } from '../errors';
import { duration, elapsed, instant, status as colored, table } from '../format';

/** Options of `sluice backfills`. */
export interface BackfillsOptions {
  /** A backfill to cancel. */
  readonly cancel?: string;
  /** With `cancel`: stop the runs in flight instead of letting them finish. */
  readonly stop?: boolean;
  /** @default 20 */
  readonly limit?: number;
}

/** `sluice backfills`: a pipeline's backfills, newest first, with their progress; or cancels one. */
export async function backfills(context: CliContext, name: string, options: BackfillsOptions): Promise<number> {
  if (options.stop && options.cancel === undefined) throw new UsageError('--stop goes with --cancel <id>: sluice backfills <pipeline> --cancel <id> --stop');
  return withOperations(context, async (operations) => {
    if (options.cancel !== undefined) {
      const known = (await operations.listBackfills(name)).find((b) => b.backfillId === options.cancel);
      if (!known) throw new UsageError(`pipeline "${name}" has no backfill ${options.cancel}; sluice backfills ${name}${stageOption(context)} lists them`);
      const cancelled = await operations.cancelBackfill(name, options.cancel, options.stop ? 'stop' : 'finish');
      const message = cancelled
        ? `Backfill ${options.cancel} cancelled: ${options.stop ? 'its runs in flight were stopped' : 'no new run starts; runs in flight finish'}`
        : `Backfill ${options.cancel} had already ended (${known.status})`;
      if (context.json) context.io.out(`${JSON.stringify({ pipeline: name, backfillId: options.cancel, cancelled })}\n`);
      else context.io.out(`${message}\n`);
      return cancelled ? EXIT.ok : EXIT.failed;
    }
    const records = (await operations.listBackfills(name)).slice(0, options.limit ?? 20);
    const views = records.map((r) => ({
      ...r,
      done: r.succeeded + r.failed + r.skipped + r.cancelled,
      durationMs: elapsed(r.createdAt, r.finishedAt ?? (r.status === 'RUNNING' ? new Date().toISOString() : undefined)),
    }));
    if (context.json) {
      context.io.out(`${JSON.stringify({ pipeline: name, backfills: views }, null, 2)}\n`);
      return EXIT.ok;
    }
    if (views.length === 0) {
      context.io.out(`${name} has no backfills yet: start one with sluice backfill ${name} --from KEY --to KEY${stageOption(context)}\n`);
      return EXIT.ok;
    }
    context.io.out(
      table(
        ['BACKFILL', 'STATUS', 'RANGE', 'ONLY', 'CONCURRENCY', 'PROGRESS', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'STARTED', 'DURATION'],
        views.map((v) => [
          v.backfillId,
          colored(v.status, context.io.color) + (v.cancelRequested && v.status === 'RUNNING' ? ' (cancelling)' : ''),
          `${v.request.from ?? 'first'}..${v.request.to ?? 'last'}`,
          v.request.only,
          String(v.request.concurrency),
          `${v.done}/${v.partitions}`,
          String(v.succeeded),
          String(v.failed),
          String(v.skipped),
          instant(v.createdAt),
          duration(v.durationMs),
        ]),
      ),
    );
    return EXIT.ok;
  });
}
