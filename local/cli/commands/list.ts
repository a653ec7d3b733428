import { loadPipelines } from '../../../lib/loader';
import type { CliContext } from '../context';
import { EXIT } from '../errors';
import { describePartitions, describeSchedule, describeTrigger, table } from '../format';

/** `sluice list`: the pipelines as their definitions declare them; no synth, no services. */
export async function list(context: CliContext): Promise<number> {
  const pipelines = await loadPipelines(context.pipelinesDir);
  if (context.json) {
    const listed = pipelines.map(({ compiled, file }) => ({
      name: compiled.name,
      description: compiled.description,
      file,
      partitions: compiled.partitions ?? null,
      schedule: compiled.schedule ? { cron: compiled.schedule.cron, timezone: compiled.schedule.timezone } : null,
      triggers: compiled.triggers.map((trigger) => ({
        kind: trigger.kind,
        bucket: trigger.bucket,
        prefix: trigger.prefix,
        suffix: trigger.suffix,
        pattern: describeTrigger(trigger),
        partitionFromKey: trigger.partitionFromKey?.source,
      })),
      tasks: compiled.tasks.map((task) => task.name),
    }));
    context.io.out(`${JSON.stringify(listed, null, 2)}\n`);
    return EXIT.ok;
  }
  if (pipelines.length === 0) {
    context.io.out(`No pipelines in ${context.pipelinesDir}\n`);
    return EXIT.ok;
  }
  context.io.out(
    table(
      ['PIPELINE', 'PARTITIONS', 'SCHEDULE', 'TRIGGERS', 'TASKS'],
      pipelines.map(({ compiled }) => [
        compiled.name,
        describePartitions(compiled.partitions),
        describeSchedule(compiled.schedule),
        compiled.triggers.map((trigger) => describeTrigger(trigger)).join(', '),
        compiled.tasks.map((task) => task.name).join(', '),
      ]),
    ),
  );
  return EXIT.ok;
}
