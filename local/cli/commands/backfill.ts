import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { BackfillSelection } from '../../../lib/compile/backfill';
import type { BackfillRecord, RunOutcome } from '../../../orchestration';
import { type BackfillProgress, type CancelMode, checkBackfill, type StartedBackfill } from '../../backfills';
import type { StageOperations } from '../../operations/operations';
import { type CliContext, stageOption } from '../context';
import { withOperations } from '../operations';
import { EXIT } from '../errors';
import { duration, elapsed, errorLine, status as colored, table } from '../format';

/** Options of `sluice backfill`. */
export interface BackfillOptions {
  readonly from?: string;
  readonly to?: string;
  /** @default 'missing,failed' */
  readonly only?: BackfillSelection;
  /** @default 1 */
  readonly concurrency?: number;
  /** `false` (`--no-downstream`): the runs do not start the pipelines that run after this one. @default true */
  readonly downstream?: boolean;
  /** Confirms a range of more than `BACKFILL_CONFIRM_ABOVE` partitions. */
  readonly yes?: boolean;
}

/** What `sluice backfill --json` prints. */
export interface BackfillView {
  readonly pipeline: string;
  readonly backfillId: string;
  readonly status: string;
  readonly partitions: number;
  readonly runs: number;
  readonly succeeded: number;
  readonly failed: number;
  readonly skipped: number;
  readonly cancelled: number;
  readonly durationMs?: number;
  /** Partitions that ended per second: with `backfill.partitionsPerRun`, several per run. */
  readonly partitionsPerSecond?: number;
  readonly problems: readonly RunOutcome[];
  readonly error?: string;
  readonly cause?: string;
}

/** How often progress is read while a backfill runs. */
const POLL_MS = 250;

/**
 * `sluice backfill`: starts the pipeline's backfill state machine over a range and follows it
 * (a live progress bar on a terminal) until it ends; Ctrl-C offers to cancel it.
 */
export async function backfill(context: CliContext, name: string, options: BackfillOptions): Promise<number> {
  return withOperations(context, async (operations) => {
    const pipeline = await operations.pipeline(name);
    const { request, rangeSize } = checkBackfill(
      pipeline,
      { from: options.from, to: options.to, only: options.only, concurrency: options.concurrency, downstream: options.downstream },
      { now: new Date(), yes: options.yes },
    );
    const started = await operations.startBackfill(name, request);
    context.io.err(
      `Backfill ${started.backfillId} of ${name}: ${rangeSize} partition(s) in range, only ${request.only}, concurrency ${request.concurrency}\n`,
    );
    const stopCancelling = onInterrupt(context, operations, started);
    let progress: BackfillProgress;
    try {
      progress = await follow(context, operations, started);
    } finally {
      stopCancelling();
    }
    const view = await backfillView(operations, started, progress);
    if (context.json) context.io.out(`${JSON.stringify(view, null, 2)}\n`);
    else printSummary(context, view);
    return view.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }, { warm: [{ pipeline: name, start: 'backfill' }] });
}

/** Polls the backfill until its execution ends, drawing a progress bar on a terminal. */
async function follow(context: CliContext, operations: StageOperations, started: StartedBackfill): Promise<BackfillProgress> {
  const terminal = context.io.terminal === true && !context.json;
  const bar = terminal
    ? new SingleBar({
        format: ' {bar} {percentage}% | {value}/{total} partitions | {succeeded} ok, {failed} failed | {running} running | {rate} partitions/s | ETA {eta_formatted}',
        barsize: 24,
        hideCursor: true,
        // The process's own streams are captured for the functions' logs: draw through the CLI's.
        stream: { isTTY: true, columns: context.io.columns ?? 80, write: (text: string) => (context.io.err(text), true) } as unknown as NodeJS.WritableStream,
      })
    : undefined;
  const begun = Date.now();
  let drawing = false;
  try {
    for (;;) {
      const progress = await operations.backfillProgress(started);
      const record = progress.record;
      if (bar && record) {
        const done = record.succeeded + record.failed + record.skipped + record.cancelled;
        const seconds = (Date.now() - begun) / 1000;
        const payload = {
          succeeded: record.succeeded,
          failed: record.failed,
          running: progress.running,
          rate: seconds > 0 ? (done / seconds).toFixed(1) : '0.0',
        };
        if (drawing) {
          bar.update(done, payload);
        } else {
          drawing = true;
          bar.start(record.partitions, done, payload);
        }
      }
      if (progress.execution.status !== 'RUNNING') return progress;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    bar?.stop();
  }
}

/**
 * Ctrl-C while a backfill runs. On a terminal it asks what to do with the runs in flight (let them
 * finish, stop them, or go on); elsewhere the first interrupt lets them finish and a second stops
 * them. Returns the function that restores the default handling.
 */
function onInterrupt(context: CliContext, operations: StageOperations, started: StartedBackfill): () => void {
  let interrupts = 0;
  let asking = false;
  const cancel = (mode: CancelMode) => {
    context.io.err(`\nCancelling backfill ${started.backfillId}: ${mode === 'finish' ? 'runs in flight finish, no new run starts' : 'stopping the runs in flight'}\n`);
    operations.cancelBackfill(started.pipeline, started.backfillId, mode).catch((error: unknown) =>
      context.io.err(`Could not cancel backfill ${started.backfillId}: ${(error as Error).message}\n`),
    );
  };
  const handler = () => {
    interrupts++;
    if (!context.io.terminal || !process.stdin.isTTY) {
      cancel(interrupts === 1 ? 'finish' : 'stop');
      return;
    }
    if (asking) return;
    asking = true;
    const prompt = createInterface({ input: process.stdin, output: { write: (text: string) => (context.io.err(text), true) } as unknown as NodeJS.WritableStream });
    prompt.question(`\nCancel backfill ${started.backfillId}? [f] let runs in flight finish, [s] stop them, [c] continue: `, (answer) => {
      prompt.close();
      asking = false;
      const choice = answer.trim().toLowerCase();
      if (choice.startsWith('f')) cancel('finish');
      else if (choice.startsWith('s')) cancel('stop');
    });
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

async function backfillView(operations: StageOperations, started: StartedBackfill, progress: BackfillProgress): Promise<BackfillView> {
  const record: BackfillRecord | undefined = (await operations.backfillProgress(started)).record ?? progress.record;
  const execution = progress.execution;
  const durationMs = elapsed(execution.startDate, execution.stopDate);
  const ran = record ? record.succeeded + record.failed : 0;
  return {
    pipeline: started.pipeline,
    backfillId: started.backfillId,
    status: record?.status ?? execution.status,
    partitions: record?.partitions ?? 0,
    runs: record?.runs ?? 0,
    succeeded: record?.succeeded ?? 0,
    failed: record?.failed ?? 0,
    skipped: record?.skipped ?? 0,
    cancelled: record?.cancelled ?? 0,
    ...(durationMs !== undefined && { durationMs }),
    ...(durationMs && ran > 0 && { partitionsPerSecond: Math.round((ran / (durationMs / 1000)) * 10) / 10 }),
    problems: record ? await operations.backfillProblems(started.pipeline, started.backfillId) : [],
    // A backfill that never recorded itself failed in its plan step: say why.
    ...(!record && execution.error !== undefined && { error: execution.error }),
    ...(!record && execution.cause !== undefined && { cause: execution.cause }),
  };
}

/** How many problem runs the summary lists; `--json` lists them all. */
const PROBLEMS_SHOWN = 20;

/** The summary `sluice backfill` prints on its end without `--json`: counts, then a table of the runs that did not succeed. */
export function printSummary(context: Pick<CliContext, 'io' | 'stage'>, view: BackfillView): void {
  const { io } = context;
  if (view.error !== undefined) {
    io.out(`${colored('FAILED', io.color)}  backfill ${view.backfillId} of ${view.pipeline} failed before it ran anything: ${errorLine(view.error, view.cause)}\n`);
    return;
  }
  const counts = [`${view.succeeded} succeeded`, `${view.failed} failed`, `${view.skipped} skipped`, ...(view.cancelled > 0 ? [`${view.cancelled} cancelled`] : [])];
  const rate = view.partitionsPerSecond === undefined ? '' : `, ${view.partitionsPerSecond} partitions/s`;
  io.out(
    `${colored(view.status, io.color)}  backfill ${view.backfillId} of ${view.pipeline}: ${view.partitions} partition(s): ${counts.join(', ')}  (${duration(view.durationMs)}${rate})\n`,
  );
  if (view.problems.length === 0) return;
  io.out('\n');
  io.out(
    table(
      ['PARTITION', 'OUTCOME', 'RUN ID', 'ERROR'],
      view.problems.slice(0, PROBLEMS_SHOWN).map((p) => [
        p.partitions ? `${p.partition}..${p.partitions.at(-1)}` : p.partition,
        colored(p.status === 'SKIPPED' ? 'SKIPPED' : 'FAILED', io.color),
        p.runId ?? '',
        errorLine(p.error, p.message),
      ]),
    ),
  );
  if (view.problems.length > PROBLEMS_SHOWN) io.out(`… and ${view.problems.length - PROBLEMS_SHOWN} more (--json lists them all)\n`);
  io.out(`\nRe-run what is left: sluice backfill ${view.pipeline} --only missing,failed${stageOption(context)} with the same --from/--to\n`);
}
