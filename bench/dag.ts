import { criticalPath, flowMakespan, planFlow, type PlannedTask } from '../lib/compile/flow';
import type { Flow } from '../lib/compile/model';
import { randomDag, randomInt, randomSeriesParallel } from './random-dags';
import { seededRandom, summarize, type BenchResult } from './stats';

/**
 * How much slower than the DAG's critical path the planned flow runs, when task durations are
 * unknown to the planner. 500 random DAGs (5–60 tasks, mean degree 0.5–4), 200 random
 * series-parallel DAGs (which must plan exactly), and planning time up to 200 tasks.
 */
export async function run(): Promise<BenchResult> {
  const rand = seededRandom(20240601);
  const random = Array.from({ length: 500 }, () => {
    const n = randomInt(rand, 5, 60);
    const degree = 0.5 + 3.5 * rand();
    return withDegree(randomDag(rand, n, degree), degree);
  });
  const seriesParallel = Array.from({ length: 200 }, () => {
    const n = randomInt(rand, 5, 60);
    return withDegree(randomSeriesParallel(rand, n, n / 5));
  });
  const large = Array.from({ length: 20 }, (_, i) => {
    const degree = 0.5 + (3.5 * i) / 19;
    return withDegree(randomDag(rand, 200, degree), degree);
  });

  const rows = [
    ...measure('random', random, 1),
    ...(['sparse', 'medium', 'dense'] as const).flatMap((band) =>
      measure(`random ${band}`, random.filter((d) => densityBand(d) === band), 2).filter((r) => r.strategy === 'planFlow'),
    ),
    ...measure('series-parallel', seriesParallel, 3),
    ...measure('random n=200', large, 4),
  ];
  return { title: `makespan / critical path over ${DRAWS} duration draws per DAG`, rows };
}

interface Case {
  readonly tasks: readonly PlannedTask[];
  readonly degree: number;
}

/** Each DAG runs under this many independent draws of durations, the same draws for every strategy. */
const DRAWS = 10;

const DURATIONS: Record<string, (rand: () => number) => number> = {
  'log-normal': logNormalSeconds,
  'uniform': (rand) => 1 + 99 * rand(),
};

function measure(dataset: string, cases: readonly Case[], seed: number): Record<string, string | number>[] {
  const strategies: Record<string, (tasks: readonly PlannedTask[]) => Flow> = { planFlow, 'level by level': levelByLevel };
  return Object.entries(strategies).flatMap(([strategy, planner]) => {
    const flows: Flow[] = [];
    const millis: number[] = [];
    for (const { tasks } of cases) {
      const started = performance.now();
      flows.push(planner(tasks));
      millis.push(performance.now() - started);
    }
    const time = summarize(millis, 3);
    return Object.entries(DURATIONS).map(([model, draw]) => {
      const rand = seededRandom(seed);
      const ratios = cases.flatMap(({ tasks }, i) =>
        Array.from({ length: DRAWS }, () => {
          const durations = new Map(tasks.map((t) => [t.name, draw(rand)]));
          const duration = (name: string): number => durations.get(name)!;
          return flowMakespan(flows[i]!, duration) / criticalPath(tasks, duration);
        }),
      );
      const ratio = summarize(ratios);
      return {
        dataset,
        strategy,
        durations: model,
        dags: cases.length,
        tasks: Math.round(cases.reduce((sum, c) => sum + c.tasks.length, 0) / cases.length),
        p50: ratio.p50,
        p95: ratio.p95,
        max: ratio.max,
        mean: ratio.mean,
        'exact %': Math.round((100 * ratios.filter((r) => r <= 1 + 1e-9).length) / ratios.length),
        'plan ms mean': time.mean,
        'plan ms max': time.max,
      };
    });
  });
}

/** The naive plan: one Parallel per ASAP level, levels in sequence. */
function levelByLevel(tasks: readonly PlannedTask[]): Flow {
  const level = new Map<string, number>();
  const byName = new Map(tasks.map((t) => [t.name, t]));
  const levelOf = (name: string): number => {
    const known = level.get(name);
    if (known !== undefined) return known;
    const value = Math.max(-1, ...byName.get(name)!.after.map(levelOf)) + 1;
    level.set(name, value);
    return value;
  };
  const levels: string[][] = [];
  for (const t of tasks) (levels[levelOf(t.name)] ??= []).push(t.name);
  const steps = levels.map((names): Flow =>
    names.length === 1 ? { kind: 'task', task: names[0]! } : { kind: 'parallel', branches: names.map((task) => ({ kind: 'task', task })) },
  );
  return steps.length === 1 ? steps[0]! : { kind: 'sequence', steps };
}

/** A DAG with its mean degree, for the density bands. */
function withDegree(tasks: PlannedTask[], degree = tasks.reduce((sum, t) => sum + t.after.length, 0) / tasks.length): Case {
  return { tasks, degree };
}

function densityBand(c: Case): 'sparse' | 'medium' | 'dense' {
  return c.degree < 1.5 ? 'sparse' : c.degree < 2.75 ? 'medium' : 'dense';
}

/** Log-normal seconds, median 20 s, clamped to Lambda's 1–900 s. */
function logNormalSeconds(rand: () => number): number {
  const normal = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Math.min(900, Math.max(1, 20 * Math.exp(normal)));
}
