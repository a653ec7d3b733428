import { formatIssue } from '../../../lib/compile/errors';
import { describeMapping } from '../../../lib/compile/upstream';
import { discoverPipelines } from '../../../lib/loader';
import { type CliContext, requireProject } from '../context';
import { EXIT } from '../errors';
import { describePartitions, describeSchedule, describeTrigger, table } from '../format';

/**
 * `sluice list`: the pipelines as their definitions declare them, and the graph of pipelines that
 * run after others; no synth, no services.
 */
export async function list(context: CliContext): Promise<number> {
  requireProject(context);
  const { pipelines, issues, blocked } = await discoverPipelines(context.pipelinesDir);
  // A broken pipeline is reported and left out; `sluice validate` lists its problems.
  for (const issue of [...issues, ...blocked]) context.io.err(`warning: skipped ${formatIssue(issue)}\n`);
  const edges = pipelines.flatMap(({ compiled }) =>
    compiled.upstream.map((u) => ({ from: u.pipeline, to: compiled.name, mapping: describeMapping(u.mapping) })),
  );
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
      upstream: compiled.upstream.map((u) => ({ pipeline: u.pipeline, mapping: u.mapping })),
      downstream: edges.filter((e) => e.from === compiled.name).map((e) => e.to),
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
      ['PIPELINE', 'PARTITIONS', 'SCHEDULE', 'TRIGGERS', 'TASKS', 'DESCRIPTION'],
      pipelines.map(({ compiled }) => [
        compiled.name,
        describePartitions(compiled.partitions),
        describeSchedule(compiled.schedule),
        [
          ...compiled.triggers.map((trigger) => describeTrigger(trigger)),
          ...(compiled.upstream.length > 0 ? [`after ${compiled.upstream.map((u) => u.pipeline).join(' + ')}`] : []),
        ].join(', '),
        compiled.tasks.map((task) => task.name).join(', '),
        compiled.description ?? '',
      ]),
    ),
  );
  if (edges.length > 0) {
    // Upstream → downstream, one line per dependency; a pipeline with several upstreams runs a
    // partition once all of them succeeded for it.
    context.io.out(`\nPipeline graph (upstream → downstream):\n${edges.map((e) => `  ${e.from} → ${e.to} (${e.mapping})\n`).join('')}`);
  }
  return EXIT.ok;
}
