/**
 * Two Step Functions features aws-local-stepfunctions 3.0 lacks, served by the local engine so
 * that ASL using them runs locally as it does on AWS:
 *
 * - **Distributed Map** (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`): on AWS every item
 *   runs as a child workflow execution with its own event history (so a Map over thousands of
 *   items never approaches the parent's 25,000-event limit). The interpreter only knows the
 *   inline Map, so the definition is rewritten before it runs: the Map keeps its `ItemsPath`,
 *   `ItemSelector`, `MaxConcurrency(Path)`, `ResultSelector`/`ResultPath`, `Retry` and `Catch`
 *   (all interpreted as on AWS), and its item processor becomes one synthetic Task state that the
 *   engine serves by running the original processor as a child execution, with its own history
 *   and payload checks. `ItemReader`, `ItemBatcher`, `ResultWriter` and tolerated failures are
 *   still refused by the definition check, naming the state.
 * - **`arn:aws:states:::states:startExecution.sync` and `.sync:2`**: the engine starts the
 *   execution, waits for it, and returns what AWS returns (`Output` as JSON with `:2`, as a
 *   string without); a child that does not succeed fails the Task with `States.TaskFailed` and
 *   the child's description as the `Cause`, as on AWS. Stopping the parent stops the child.
 */
import { rewriteStates } from './nested-states';

/** Resource of the synthetic Task state that runs one item of a Distributed Map. */
export const CHILD_EXECUTION_RESOURCE = 'arn:aws:states:::sluice-local:distributedMapItem';

const START_EXECUTION_SYNC = /^arn:aws:states:::states:startExecution\.sync(:2)?$/;

/** Whether `resource` is a `startExecution.sync` integration, and which flavour. */
export function startExecutionSync(resource: string): { readonly jsonOutput: boolean } | undefined {
  const match = START_EXECUTION_SYNC.exec(resource);
  return match ? { jsonOutput: match[1] === ':2' } : undefined;
}

/** One Distributed Map of a definition: the processor its items run as child executions. */
export interface DistributedMapProcessor {
  /** The Map state's name. */
  readonly mapState: string;
  /** The item processor as the template holds it (its own Distributed Maps rewritten too). */
  readonly processor: Record<string, unknown>;
}

/** A definition with its Distributed Maps rewritten for the interpreter. */
export interface RewrittenDefinition {
  readonly definition: Record<string, unknown>;
  /** By name of the synthetic Task state standing for each Distributed Map's processor. */
  readonly distributedMaps: ReadonlyMap<string, DistributedMapProcessor>;
}

/**
 * Longest a child execution may run locally. The synthetic state needs an explicit timeout
 * because the interpreter's default is 60 s; AWS allows a year, but Node.js timers stop at
 * 2^31 - 1 ms (24.8 days), and a larger value would fire at once.
 */
const CHILD_TIMEOUT_SECONDS = 24 * 24 * 3600;

/** Name of the synthetic Task state of Distributed Map `mapState`. */
export function childExecutionState(mapState: string): string {
  return `${mapState} (child execution)`;
}

/** Rewrites every Distributed Map of `definition` (a copy) as described in the module comment. */
export function rewriteDistributedMaps(definition: Record<string, unknown>): RewrittenDefinition {
  const distributedMaps = new Map<string, DistributedMapProcessor>();
  // Inner machines first: a Distributed Map inside another's processor is rewritten in it.
  const rewritten = rewriteStates(definition, (state, name) => {
    if (state.Type !== 'Map') return state;
    const processor = (state.ItemProcessor ?? state.Iterator ?? {}) as Record<string, unknown>;
    const mode = (processor.ProcessorConfig as Record<string, unknown> | undefined)?.Mode;
    if (mode !== 'DISTRIBUTED') return state;
    const synthetic = childExecutionState(name);
    distributedMaps.set(synthetic, { mapState: name, processor });
    const { Label: _label, ItemProcessor: _processor, Iterator: _iterator, ...rest } = state;
    return {
      ...rest,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: synthetic,
        States: { [synthetic]: { Type: 'Task', Resource: CHILD_EXECUTION_RESOURCE, TimeoutSeconds: CHILD_TIMEOUT_SECONDS, End: true } },
      },
    };
  });
  return { definition: rewritten, distributedMaps };
}

/** The parameters of a `startExecution.sync` Task, checked. */
export interface StartExecutionParameters {
  readonly stateMachineArn: string;
  readonly name?: string;
  /** The input as a JSON string. */
  readonly input: string;
}

/** Reads a `startExecution` Task's effective parameters as Step Functions does. */
export function startExecutionParameters(input: unknown): StartExecutionParameters {
  const parameters = (input ?? {}) as { StateMachineArn?: unknown; Name?: unknown; Input?: unknown };
  if (typeof parameters.StateMachineArn !== 'string') {
    throw new TypeError('startExecution needs a StateMachineArn parameter');
  }
  const payload = parameters.Input ?? {};
  return {
    stateMachineArn: parameters.StateMachineArn,
    ...(typeof parameters.Name === 'string' && { name: parameters.Name }),
    input: typeof payload === 'string' ? payload : JSON.stringify(payload),
  };
}

/** An ended execution, as the `.sync` integration describes it. */
export interface EndedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly status: string;
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: string;
  readonly stopDate?: string;
}

/**
 * What a `startExecution.sync` Task returns (DescribeExecution's fields, dates in epoch
 * milliseconds); with `:2`, `Input` and `Output` are JSON values instead of strings.
 */
export function syncTaskOutput(execution: EndedExecution, jsonOutput: boolean): Record<string, unknown> {
  const parse = (text: string | undefined): unknown => (text === undefined ? null : (JSON.parse(text) as unknown));
  return {
    ExecutionArn: execution.executionArn,
    StateMachineArn: execution.stateMachineArn,
    Name: execution.name,
    Status: execution.status,
    StartDate: Date.parse(execution.startDate),
    ...(execution.stopDate !== undefined && { StopDate: Date.parse(execution.stopDate) }),
    Input: jsonOutput ? parse(execution.input) : execution.input,
    InputDetails: { Included: true },
    ...(execution.status === 'SUCCEEDED'
      ? { Output: jsonOutput ? parse(execution.output) : (execution.output ?? null), OutputDetails: { Included: true } }
      : { ...(execution.error !== undefined && { Error: execution.error }), ...(execution.cause !== undefined && { Cause: execution.cause }) }),
  };
}
