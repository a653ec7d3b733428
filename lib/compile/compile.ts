import type { PipelineDefinition } from '../definitions/pipeline';
import { resolveRetry } from '../definitions/retry';
import { PipelineValidationError } from './errors';
import { planFlow } from './flow';
import { TASK_DEFAULTS, type CompiledPipeline, type CompiledTask } from './model';
import { toSchedulerExpression } from './schedule';
import { validatePipeline } from './validate';

/**
 * Validates a pipeline and plans its state machine. Pure: the same definition always compiles to
 * the same value.
 *
 * @throws PipelineValidationError listing every problem found
 */
export function compilePipeline(def: PipelineDefinition): CompiledPipeline {
  const issues = validatePipeline(def);
  if (issues.length > 0) throw new PipelineValidationError(issues);

  const tasks: CompiledTask[] = topologicalOrder(def).map((name) => {
    const t = def.tasks[name];
    return Object.freeze({
      name,
      handler: t.handler,
      after: Object.freeze([...(t.after ?? [])]),
      timeoutSeconds: t.timeoutSeconds ?? TASK_DEFAULTS.timeoutSeconds,
      memoryMb: t.memoryMb ?? TASK_DEFAULTS.memoryMb,
      retry: resolveRetry(def.retry, t.retry),
      environment: Object.freeze({ ...(t.environment ?? {}) }),
      buckets: Object.freeze({
        read: Object.freeze([...(t.buckets?.read ?? [])]),
        write: Object.freeze([...(t.buckets?.write ?? [])]),
        delete: Object.freeze([...(t.buckets?.delete ?? [])]),
      }),
      secrets: Object.freeze([...(t.secrets ?? [])]),
      ...(t.sensor && { sensor: Object.freeze({ ...t.sensor }) }),
    });
  });

  return Object.freeze({
    name: def.name,
    description: def.description,
    partitions: def.partitions,
    schedule: def.schedule
      ? Object.freeze({
          cron: def.schedule.cron,
          timezone: def.schedule.timezone ?? 'UTC',
          expression: toSchedulerExpression(def.schedule.cron),
        })
      : undefined,
    triggers: Object.freeze([...(def.triggers ?? [])]),
    upstream: Object.freeze(Object.entries(def.upstream ?? {}).map(([pipeline, mapping]) => Object.freeze({ pipeline, mapping }))),
    maxConcurrentRuns: def.maxConcurrentRuns ?? TASK_DEFAULTS.maxConcurrentRuns,
    partitionsPerRun: def.backfill?.partitionsPerRun ?? 1,
    params: Object.freeze({ ...(def.params ?? {}) }),
    tasks: Object.freeze(tasks),
    flow: planFlow(tasks),
  });
}

/** Kahn's algorithm, taking ready tasks in declaration order so the result is deterministic. */
function topologicalOrder(def: PipelineDefinition): string[] {
  const names = Object.keys(def.tasks);
  const remaining = new Map(names.map((n) => [n, new Set(def.tasks[n].after ?? [])]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = names.find((n) => remaining.get(n)?.size === 0);
    if (ready === undefined) throw new Error('unreachable: validated pipelines are acyclic');
    order.push(ready);
    remaining.delete(ready);
    for (const deps of remaining.values()) deps.delete(ready);
  }
  return order;
}
