/**
 * Reads an ASL definition before it runs: which local adapter serves each Task state, and what
 * the interpreter cannot execute faithfully (each named by its state).
 */
import { startExecutionSync } from './child-executions';

/** How a Task state is served locally. */
export type TaskPlan =
  | {
      readonly kind: 'lambda-invoke';
      readonly state: string;
      /** Where its Parameters take `$$.State.RetryCount`: paths of fields (e.g. `['Payload', 'retryCount']`). */
      readonly retryCountFields: readonly (readonly string[])[];
    }
  | { readonly kind: 'lambda-arn'; readonly state: string; readonly functionArn: string }
  | { readonly kind: 'dynamodb'; readonly state: string; readonly action: DynamoAction }
  | { readonly kind: 'start-execution-sync'; readonly state: string; readonly jsonOutput: boolean };

export type DynamoAction = 'putItem' | 'getItem' | 'updateItem' | 'deleteItem';

/** Thrown before a run starts when its definition holds something the local runtime cannot execute. */
export class UnsupportedStateError extends Error {
  constructor(
    public readonly stateMachine: string,
    public readonly problems: readonly string[],
  ) {
    super(`State machine ${stateMachine} cannot run locally:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'UnsupportedStateError';
  }
}

/** The plan of a definition: one entry per Task state, every retryable state's and every Wait state's name. */
export interface DefinitionPlan {
  readonly tasks: ReadonlyMap<string, TaskPlan>;
  readonly retryableStates: readonly string[];
  readonly waitStates: readonly string[];
}

const LAMBDA_INVOKE = /^arn:aws:states:::lambda:invoke$/;
const DYNAMODB = /^arn:aws:states:::dynamodb:(putItem|getItem|updateItem|deleteItem)$/;
const LAMBDA_ARN = /^arn:aws:lambda:[^:]+:\d{12}:function:[^:]+(:\$LATEST)?$/;
const LAMBDA_INVOKE_PARAMETERS = new Set(['FunctionName', 'Payload', 'Qualifier', 'InvocationType']);

/**
 * The context object field the local runtime supplies only as a whole field of a `lambda:invoke`
 * Task's Parameters, outside Map item processors: the executor writes each try's count into the
 * invocation's parameters (the interpreter keeps no count it could read; see `withRetryCount`).
 */
const RETRY_COUNT = '$$.State.RetryCount';

/** Context object fields the local runtime supplies (see the executor). */
const SUPPORTED_CONTEXT = [
  /^\$\$$/,
  /^\$\$\.Execution(\.(Id|Name|StartTime|Input|RoleArn|RedriveCount)(\..*)?)?$/,
  /^\$\$\.StateMachine(\.(Id|Name))?$/,
  /^\$\$\.State\.EnteredTime$/,
  /^\$\$\.Map\.Item(\.(Index|Value)(\..*)?)?$/,
];

/**
 * Walks every state, including Parallel branches and Map item processors, and returns the plan,
 * or throws {@link UnsupportedStateError} listing every problem.
 */
export function planDefinition(stateMachine: string, definition: Record<string, unknown>): DefinitionPlan {
  const problems: string[] = [];
  const tasks = new Map<string, TaskPlan>();
  const retryableStates: string[] = [];
  const waitStates: string[] = [];
  const seen = new Set<string>();

  if (definition.QueryLanguage === 'JSONata') problems.push('the definition uses QueryLanguage JSONata; only JSONPath runs locally');

  const walk = (machine: Record<string, unknown>, path: string, inMap: boolean): void => {
    const states = (machine.States ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, state] of Object.entries(states)) {
      const where = `state "${name}"${path}`;
      if (seen.has(name)) problems.push(`${where}: the name is used twice; Task overrides are keyed by state name`);
      seen.add(name);
      if (state.QueryLanguage === 'JSONata') problems.push(`${where}: QueryLanguage JSONata is not supported locally`);
      for (const field of ['Assign', 'Arguments', 'Output', 'Credentials']) {
        if (field in state) problems.push(`${where}: the ${field} field is not supported locally`);
      }
      for (const reference of contextReferences(state)) {
        // One count per state and execution: iterations of a Map would share it.
        if (reference === RETRY_COUNT && state.Type === 'Task' && !inMap) continue;
        if (!SUPPORTED_CONTEXT.some((pattern) => pattern.test(reference))) {
          problems.push(`${where}: the context object field ${reference} is not supplied locally`);
        }
      }
      if (Array.isArray(state.Retry) && state.Retry.length > 0) retryableStates.push(name);
      if (state.Type === 'Wait') waitStates.push(name);
      switch (state.Type) {
        case 'Task':
          planTask(name, state, where, tasks, problems);
          break;
        case 'Parallel':
          ((state.Branches ?? []) as Record<string, unknown>[]).forEach((branch, i) => walk(branch, ` (branch ${i + 1} of "${name}")`, inMap));
          break;
        case 'Map': {
          for (const field of ['ItemReader', 'ItemBatcher', 'ResultWriter', 'ToleratedFailurePercentage', 'ToleratedFailureCount']) {
            if (field in state) problems.push(`${where}: the Map field ${field} (Distributed Map) is not supported locally`);
          }
          // A DISTRIBUTED Map runs its items as child executions (see child-executions.ts).
          const processor = (state.ItemProcessor ?? state.Iterator) as Record<string, unknown> | undefined;
          if (processor) walk(processor, ` (item processor of "${name}")`, true);
          break;
        }
      }
    }
  };
  walk(definition, '', false);
  if (problems.length > 0) throw new UnsupportedStateError(stateMachine, problems);
  return { tasks, retryableStates, waitStates };
}

function planTask(name: string, state: Record<string, unknown>, where: string, tasks: Map<string, TaskPlan>, problems: string[]): void {
  const resource = String(state.Resource);
  if ('HeartbeatSeconds' in state || 'HeartbeatSecondsPath' in state) {
    problems.push(`${where}: HeartbeatSeconds needs task tokens, which are not supported locally`);
  }
  if (LAMBDA_INVOKE.test(resource)) {
    const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
    const keys = Object.keys(parameters).map((k) => k.replace(/\.\$$/, ''));
    const unknown = keys.filter((k) => !LAMBDA_INVOKE_PARAMETERS.has(k));
    if (unknown.length > 0) problems.push(`${where}: lambda:invoke parameter(s) ${unknown.join(', ')} are not supported locally`);
    if (!keys.includes('FunctionName')) problems.push(`${where}: lambda:invoke has no FunctionName parameter`);
    const retryCountFields = fieldsOf(parameters, RETRY_COUNT);
    if (retryCountFields.length !== JSON.stringify(state).split(RETRY_COUNT).length - 1) {
      problems.push(`${where}: the context object field ${RETRY_COUNT} is supplied locally only as a whole field of the Parameters ("name.$": "${RETRY_COUNT}")`);
    }
    tasks.set(name, { kind: 'lambda-invoke', state: name, retryCountFields });
    return;
  }
  if (JSON.stringify(state).includes(RETRY_COUNT)) {
    problems.push(`${where}: the context object field ${RETRY_COUNT} is supplied locally only to lambda:invoke Tasks`);
  }
  const dynamo = DYNAMODB.exec(resource);
  if (dynamo) {
    tasks.set(name, { kind: 'dynamodb', state: name, action: dynamo[1] as DynamoAction });
    return;
  }
  const sync = startExecutionSync(resource);
  if (sync) {
    tasks.set(name, { kind: 'start-execution-sync', state: name, jsonOutput: sync.jsonOutput });
    return;
  }
  if (LAMBDA_ARN.test(resource)) {
    tasks.set(name, { kind: 'lambda-arn', state: name, functionArn: resource.replace(/:\$LATEST$/, '') });
    return;
  }
  const pattern = /\.(sync(:2)?|waitForTaskToken)$/.test(resource) ? ' (.waitForTaskToken and .sync integrations other than startExecution need AWS)' : '';
  problems.push(
    `${where}: resource ${resource} is not supported locally${pattern}; supported: arn:aws:states:::lambda:invoke, a Lambda function ARN, arn:aws:states:::dynamodb:putItem|getItem|updateItem|deleteItem, arn:aws:states:::states:startExecution.sync(:2)`,
  );
}

/** Every `$$…` path a state refers to, in payload templates, paths and intrinsic functions. */
function contextReferences(state: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const visit = (value: unknown, nested: boolean): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\$\$(?:\.[A-Za-z0-9_]+|\[\d+\])*/g)) found.add(match[0].replace(/\[\d+\]/g, ''));
    } else if (Array.isArray(value)) {
      value.forEach((v) => visit(v, nested));
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, v] of Object.entries(value)) {
        // Nested state machines are checked as their own states.
        if (!nested && (key === 'Branches' || key === 'ItemProcessor' || key === 'Iterator')) continue;
        visit(v, true);
      }
    }
  };
  visit(state, false);
  return [...found];
}

/** The paths of the fields of a payload template whose value is the path `path` (`"name.$": path`). */
function fieldsOf(template: unknown, path: string, prefix: readonly string[] = []): string[][] {
  if (typeof template !== 'object' || template === null || Array.isArray(template)) return [];
  return Object.entries(template).flatMap(([key, value]) => {
    if (key.endsWith('.$') && value === path) return [[...prefix, key.slice(0, -2)]];
    return fieldsOf(value, path, [...prefix, key]);
  });
}

/** A Task's parameters with `count` written where its template takes `$$.State.RetryCount`. */
export function withRetryCount(parameters: unknown, fields: readonly (readonly string[])[], count: number): unknown {
  for (const field of fields) {
    let target = parameters as Record<string, unknown>;
    for (const key of field.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[field.at(-1)!] = count;
  }
  return parameters;
}
