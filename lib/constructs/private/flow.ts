import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { type CompiledTask, type Flow, sensorMaxChecks } from '../../compile/model';

/** Fields of the run input that every state carries along, unchanged. */
export const RUN_FIELDS = ['pipeline', 'partition', 'runId', 'runNumber', 'trigger', 'partitions', 'range', 'params', 'reuse'] as const;

/**
 * Seconds a Task state waits for its Lambda beyond the function's own timeout: the invoke itself
 * and a cold start, so that Lambda's timeout (a clear error from the function) fires first.
 */
export const TASK_TIMEOUT_MARGIN_SECONDS = 10;

/** The state object between states: the run input plus `results.<task>.value` per finished task. */
export function resultPathOf(task: string): string {
  return `$.results.${task}`;
}

/** Where a finished task's return value sits in the state object. */
export function resultValuePathOf(task: string, root = '$'): string {
  return `${root}.results.${task}.value`;
}

/** Builds the states of one task; `flowToChain` wires them together. */
export type TaskStateFactory = (task: string) => sfn.IChainable & sfn.INextable;

interface Compiled {
  readonly chain: sfn.IChainable & sfn.INextable;
  /** Tasks whose results this piece adds to the state object. */
  readonly produced: readonly string[];
}

/**
 * Compiles a flow into states. A `parallel` becomes a Parallel state whose `ResultSelector`
 * folds its branches' outputs (one state object each) back into one state object: run fields
 * and earlier results from branch 0, which received them as input, and each new result from the
 * branch that produced it.
 */
export function flowToChain(scope: Construct, flow: Flow, taskState: TaskStateFactory): sfn.Chain {
  let parallels = 0;

  const compile = (node: Flow, done: readonly string[]): Compiled => {
    switch (node.kind) {
      case 'task': {
        const state = taskState(node.task);
        return { chain: state, produced: [node.task] };
      }
      case 'sequence': {
        let chain: sfn.Chain | undefined;
        const produced: string[] = [];
        for (const step of node.steps) {
          const piece = compile(step, [...done, ...produced]);
          chain = chain ? chain.next(piece.chain) : sfn.Chain.start(piece.chain);
          produced.push(...piece.produced);
        }
        if (!chain) throw new Error('An empty sequence cannot be compiled');
        return { chain, produced };
      }
      case 'parallel': {
        // Numbered before its branches, so that nested Parallels get later numbers.
        const number = ++parallels;
        const branches = node.branches.map((branch) => compile(branch, done));
        const results: Record<string, unknown> = {};
        for (const task of done) results[task] = sfn.JsonPath.objectAt(resultPathOf(task).replace('$', '$[0]'));
        branches.forEach((branch, index) => {
          for (const task of branch.produced) {
            results[task] = sfn.JsonPath.objectAt(resultPathOf(task).replace('$', `$[${index}]`));
          }
        });
        const parallel = new sfn.Parallel(scope, `Parallel ${number}`, {
          resultSelector: { ...runFields('$[0]'), results },
        });
        for (const branch of branches) parallel.branch(branch.chain);
        return { chain: parallel, produced: branches.flatMap((b) => b.produced) };
      }
    }
  };

  return sfn.Chain.start(compile(flow, []).chain);
}

/** The run fields of the state object at `root` (`RunInput`), as payload-template entries. */
export function runFields(root: string): Record<string, unknown> {
  return { ...eventRunFields(root), reuse: sfn.JsonPath.objectAt(`${root}.reuse`) };
}

/** The run fields a task's event carries (`RunFields`): the run input but what is reused. */
export function eventRunFields(root: string): Record<string, unknown> {
  return {
    pipeline: sfn.JsonPath.stringAt(`${root}.pipeline`),
    partition: sfn.JsonPath.stringAt(`${root}.partition`),
    runId: sfn.JsonPath.stringAt(`${root}.runId`),
    runNumber: sfn.JsonPath.numberAt(`${root}.runNumber`),
    trigger: sfn.JsonPath.stringAt(`${root}.trigger`),
    partitions: sfn.JsonPath.listAt(`${root}.partitions`),
    range: sfn.JsonPath.objectAt(`${root}.range`),
    params: sfn.JsonPath.objectAt(`${root}.params`),
  };
}

/**
 * The longest a run can take if every task on its slowest path exhausts its retries: the basis
 * of the state machine's own timeout.
 */
export function worstCaseSeconds(flow: Flow, tasks: ReadonlyMap<string, CompiledTask>): number {
  switch (flow.kind) {
    case 'task': {
      const task = tasks.get(flow.task);
      if (!task) throw new Error(`The flow names task "${flow.task}", which the pipeline does not declare`);
      const { attempts, intervalSeconds, backoffRate, maxDelaySeconds } = task.retry;
      // A sensor: each attempt checks up to maxChecks times and waits between checks.
      const checks = task.sensor ? sensorMaxChecks(task.sensor) : 1;
      const waits = task.sensor ? (checks - 1) * task.sensor.intervalSeconds : 0;
      let total = attempts * (checks * (task.timeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS) + waits);
      for (let retry = 0; retry < attempts - 1; retry++) {
        const delay = intervalSeconds * backoffRate ** retry;
        total += maxDelaySeconds === undefined ? delay : Math.min(delay, maxDelaySeconds);
      }
      return Math.ceil(total);
    }
    case 'sequence':
      return flow.steps.reduce((sum, step) => sum + worstCaseSeconds(step, tasks), 0);
    case 'parallel':
      return Math.max(0, ...flow.branches.map((branch) => worstCaseSeconds(branch, tasks)));
  }
}

