import { describe, expect, it } from 'vitest';
import { criticalPath, flowMakespan, flowTasks, planFlow, type PlannedTask } from '../../lib/compile/flow';
import type { Flow } from '../../lib/compile/model';
import { randomDag, randomInt, randomSeriesParallel } from '../../bench/random-dags';
import { seededRandom } from '../../bench/stats';


/** Random DAG of 5–60 tasks with a random edge density, declared in a random order. */
function randomDagOf5To60(rand: () => number): PlannedTask[] {
  return randomDag(rand, randomInt(rand, 5, 60), rand() * 4);
}

/** Random series-parallel DAG of 5–60 tasks, with a few redundant (implied) edges added. */
function randomSeriesParallelOf5To60(rand: () => number): PlannedTask[] {
  return randomSeriesParallel(rand, randomInt(rand, 5, 60), 5);
}

function randomDurations(rand: () => number, tasks: readonly PlannedTask[]): (task: string) => number {
  const durations = new Map(tasks.map((t) => [t.name, 1 + 99 * rand()]));
  return (task) => durations.get(task)!;
}

/** Runs a flow as Step Functions would: start and finish time of every task. */
function simulate(flow: Flow, duration: (task: string) => number, at = 0, times = new Map<string, [number, number]>()) {
  let end = at;
  if (flow.kind === 'task') {
    end = at + duration(flow.task);
    times.set(flow.task, [at, end]);
  } else if (flow.kind === 'sequence') {
    for (const step of flow.steps) end = simulate(step, duration, end, times).end;
  } else {
    for (const branch of flow.branches) end = Math.max(end, simulate(branch, duration, at, times).end);
  }
  return { end, times };
}

/** Nesting Step Functions would render as useless states. */
function degenerateNodes(flow: Flow): string[] {
  if (flow.kind === 'task') return [];
  const children = flow.kind === 'sequence' ? flow.steps : flow.branches;
  const own = [
    ...(children.length < 2 ? [`${flow.kind} with ${children.length} child`] : []),
    ...children.filter((c) => c.kind === flow.kind).map(() => `${flow.kind} in ${flow.kind}`),
  ];
  return [...own, ...children.flatMap(degenerateNodes)];
}

const t = (task: string): Flow => ({ kind: 'task', task });
const seq = (...steps: Flow[]): Flow => ({ kind: 'sequence', steps });
const par = (...branches: Flow[]): Flow => ({ kind: 'parallel', branches });

describe('planFlow on random DAGs', () => {
  it('places every task exactly once and starts each after all its dependencies finish', () => {
    const rand = seededRandom(1);
    for (let i = 0; i < 100; i++) {
      // Given a random DAG
      const tasks = randomDagOf5To60(rand);

      // When it is planned and run with random durations
      const flow = planFlow(tasks);
      const { times } = simulate(flow, randomDurations(rand, tasks));

      // Then every task appears once, after its dependencies, without degenerate nesting
      expect(flowTasks(flow).sort()).toStrictEqual(tasks.map((x) => x.name).sort());
      for (const task of tasks) {
        for (const dep of task.after) expect(times.get(task.name)![0]).toBeGreaterThanOrEqual(times.get(dep)![1]);
      }
      expect(degenerateNodes(flow)).toStrictEqual([]);
    }
  });

  it('is deterministic', () => {
    const rand = seededRandom(2);
    for (let i = 0; i < 50; i++) {
      const tasks = randomDagOf5To60(rand);
      expect(planFlow(tasks)).toStrictEqual(planFlow(tasks.map((x) => ({ ...x, after: [...x.after] }))));
    }
  });

  it('never beats the critical path and never loses to running tasks one by one', () => {
    const rand = seededRandom(3);
    for (let i = 0; i < 100; i++) {
      const tasks = randomDagOf5To60(rand);
      const duration = randomDurations(rand, tasks);
      const makespan = flowMakespan(planFlow(tasks), duration);
      expect(makespan).toBeGreaterThanOrEqual(criticalPath(tasks, duration) - 1e-9);
      expect(makespan).toBeLessThanOrEqual(tasks.reduce((sum, x) => sum + duration(x.name), 0) + 1e-9);
    }
  });

  it('plans 200 tasks in well under 100 ms', () => {
    // Given a 200-task DAG of medium density, the hardest for the planner
    const rand = seededRandom(4);
    const tasks = Array.from({ length: 200 }, (_, j) => ({
      name: `t${j}`,
      after: Array.from({ length: j }, (_, i) => `t${i}`).filter(() => rand() < 0.02),
    }));

    // When it is planned, Then it takes less than 100 ms
    const started = performance.now();
    planFlow(tasks);
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe('planFlow on series-parallel DAGs', () => {
  it('runs exactly as long as the critical path, whatever the durations', () => {
    const rand = seededRandom(5);
    for (let i = 0; i < 200; i++) {
      // Given a random series-parallel DAG (with redundant edges) and random durations
      const tasks = randomSeriesParallelOf5To60(rand);
      const flow = planFlow(tasks);
      for (let draw = 0; draw < 3; draw++) {
        const duration = randomDurations(rand, tasks);
        // Then the flow takes exactly the critical path
        expect(flowMakespan(flow, duration)).toBeCloseTo(criticalPath(tasks, duration), 9);
      }
    }
  });
});

describe('planFlow shapes', () => {
  it('plans a single task as that task', () => {
    expect(planFlow([{ name: 'only', after: [] }])).toStrictEqual(t('only'));
  });

  it('plans a chain as a sequence', () => {
    const flow = planFlow([
      { name: 'load', after: ['transform'] },
      { name: 'extract', after: [] },
      { name: 'transform', after: ['extract'] },
    ]);
    expect(flow).toStrictEqual(seq(t('extract'), t('transform'), t('load')));
  });

  it('plans a fan-out as the root then one parallel, in declaration order', () => {
    const flow = planFlow([
      { name: 'root', after: [] },
      { name: 'c', after: ['root'] },
      { name: 'a', after: ['root'] },
      { name: 'b', after: ['root'] },
    ]);
    expect(flow).toStrictEqual(seq(t('root'), par(t('c'), t('a'), t('b'))));
  });

  it('plans a fan-in as one parallel then the sink', () => {
    const flow = planFlow([
      { name: 'a', after: [] },
      { name: 'b', after: [] },
      { name: 'sink', after: ['a', 'b'] },
    ]);
    expect(flow).toStrictEqual(seq(par(t('a'), t('b')), t('sink')));
  });

  it('plans a diamond with a transitive edge as top, parallel middle, bottom', () => {
    const flow = planFlow([
      { name: 'top', after: [] },
      { name: 'left', after: ['top'] },
      { name: 'right', after: ['top'] },
      { name: 'bottom', after: ['left', 'right', 'top'] },
    ]);
    expect(flow).toStrictEqual(seq(t('top'), par(t('left'), t('right')), t('bottom')));
  });

  it('keeps chains whole inside parallel branches', () => {
    const flow = planFlow([
      { name: 'start', after: [] },
      { name: 'a1', after: ['start'] },
      { name: 'a2', after: ['a1'] },
      { name: 'b1', after: ['start'] },
      { name: 'end', after: ['a2', 'b1'] },
    ]);
    expect(flow).toStrictEqual(seq(t('start'), par(seq(t('a1'), t('a2')), t('b1')), t('end')));
  });

  it('plans the N shape with one unavoidable wait, by levels', () => {
    // Given a→c, b→c, b→d: no series-parallel flow respects exactly these dependencies
    const flow = planFlow([
      { name: 'a', after: [] },
      { name: 'b', after: [] },
      { name: 'c', after: ['a', 'b'] },
      { name: 'd', after: ['b'] },
    ]);
    // Then d also waits for a, the choice that keeps the unit-duration makespan at 2
    expect(flow).toStrictEqual(seq(par(t('a'), t('b')), par(t('c'), t('d'))));
  });

  it('plans disconnected parts as parallel branches', () => {
    const flow = planFlow([
      { name: 'x', after: [] },
      { name: 'lonely', after: [] },
      { name: 'y', after: ['x'] },
    ]);
    expect(flow).toStrictEqual(par(seq(t('x'), t('y')), t('lonely')));
  });

  it('fails on an empty task list', () => {
    expect(() => planFlow([])).toThrow('planFlow needs at least one task');
  });
});

describe('flowMakespan, criticalPath and flowTasks', () => {
  const duration = (task: string): number => ({ a: 1, b: 5, c: 2, d: 10 })[task]!;

  it('adds sequence steps and takes the longest parallel branch', () => {
    expect(flowMakespan(seq(par(t('a'), t('b')), par(t('c'), t('d'))), duration)).toBe(15);
  });

  it('measures the longest dependency chain', () => {
    const tasks = [
      { name: 'a', after: [] },
      { name: 'b', after: [] },
      { name: 'c', after: ['a', 'b'] },
      { name: 'd', after: ['b'] },
    ];
    expect(criticalPath(tasks, duration)).toBe(15);
    expect(criticalPath(tasks, (x) => (x === 'd' ? 1 : duration(x)))).toBe(7);
  });

  it('lists tasks in flow order', () => {
    expect(flowTasks(seq(t('a'), par(t('b'), seq(t('c'), t('d')))))).toStrictEqual(['a', 'b', 'c', 'd']);
  });
});
