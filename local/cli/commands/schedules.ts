import { nextFireTimes } from '../../../lib/compile/schedule';
import type { ScheduleState } from '../../../orchestration';
import { type CliContext, stageOption } from '../context';
import { withOperations } from '../operations';
import { EXIT, UsageError } from '../errors';
import { instant, table } from '../format';

/** A pipeline's schedule as `sluice schedules` reports it. */
export interface ScheduleView {
  readonly pipeline: string;
  readonly cron: string;
  readonly timezone: string;
  readonly state: ScheduleState;
  /** The next tick, ISO-8601; absent while paused (it will not fire) or when it never fires again. */
  readonly next?: string;
}

/** `sluice schedules`: every pipeline's schedule with its time zone, next tick and state. */
export async function schedules(context: CliContext): Promise<number> {
  return withOperations(context, async (operations) => {
    const now = new Date();
    const views: ScheduleView[] = [];
    for (const name of await operations.pipelineNames()) {
      const pipeline = await operations.pipeline(name);
      const schedule = pipeline.config.schedule;
      if (!schedule) continue;
      const state = await operations.scheduleState(pipeline.name);
      const next = state === 'ENABLED' ? nextFireTimes(schedule, now, 1)[0]?.toISOString() : undefined;
      views.push({ pipeline: pipeline.name, cron: schedule.cron, timezone: schedule.timezone, state, ...(next && { next }) });
    }
    if (context.json) {
      context.io.out(`${JSON.stringify({ schedules: views }, null, 2)}\n`);
    } else if (views.length === 0) {
      context.io.out('No pipeline has a schedule\n');
    } else {
      context.io.out(table(['PIPELINE', 'CRON', 'TIME ZONE', 'STATE', 'NEXT'], views.map((v) => [v.pipeline, v.cron, v.timezone, v.state, instant(v.next)])));
    }
    return EXIT.ok;
  });
}

/** `sluice pause` / `sluice resume`: stops or restarts a pipeline's schedule. */
export async function setState(context: CliContext, name: string, state: ScheduleState): Promise<number> {
  return withOperations(context, async (operations) => {
    await operations.setScheduleState(name, state);
    if (context.json) context.io.out(`${JSON.stringify({ pipeline: name, state })}\n`);
    else if (state === 'PAUSED') {
      context.io.out(`${name}: schedule paused. Ticks are not made up on resume: back-fill the partitions they would have run with sluice run --partition KEY${stageOption(context)}\n`);
    } else context.io.out(`${name}: schedule resumed\n`);
    return EXIT.ok;
  });
}

/** `sluice tick`: one tick of a pipeline's schedule, as it would have fired at `--at` (default now). */
export async function tick(context: CliContext, name: string, options: { at?: string }): Promise<number> {
  const at = options.at === undefined ? new Date() : new Date(options.at);
  if (Number.isNaN(at.getTime())) throw new UsageError(`--at ${JSON.stringify(options.at)} is not a time: use ISO-8601, e.g. 2024-03-02T06:00:00Z`);
  return withOperations(context, async (operations) => {
    const outcome = await operations.tick(name, at);
    if (outcome.kind === 'paused') {
      if (context.json) context.io.out(`${JSON.stringify({ pipeline: name, at: at.toISOString(), status: 'PAUSED' })}\n`);
      else context.io.err(`${name}: the schedule is paused, so the tick fired nothing. Resume it with sluice resume ${name}${stageOption(context)}\n`);
      return EXIT.failed;
    }
    const { result } = outcome;
    if (context.json) {
      context.io.out(`${JSON.stringify({ pipeline: name, at: at.toISOString(), result }, null, 2)}\n`);
    } else if (result.kind === 'skip') {
      context.io.out(`${name}: the tick at ${at.toISOString()} runs nothing: ${result.reason}\n`);
    } else {
      for (const run of result.runs) {
        const what = run.kind === 'started' ? `started run ${run.runId}` : run.kind === 'skipped' ? `already running (run ${run.runId})` : `deferred: ${run.reason}`;
        context.io.out(`${name}: partition ${run.partition} ${what}\n`);
      }
    }
    return EXIT.ok;
  }, { warm: [{ pipeline: name, start: 'launcher' }] });
}
