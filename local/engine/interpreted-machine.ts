/**
 * A state machine of the assembly as the interpreter runs it: its definition planned (which
 * adapter serves each Task), its Distributed Maps rewritten as child executions, the Choice rules
 * the interpreter gets wrong rewritten (see `choice-rules.ts`), and the aws-local-stepfunctions
 * machines.
 *
 * Validating a definition against the ASL schema (asl-validator, through ajv) costs about 0.3 s
 * per process, more than the rest of a warm start. A build's definitions cannot change, so they
 * are validated once, when the build is made ({@link checkStateMachines}), and every command
 * that runs the build interprets them without validating again.
 */
import type { StateMachine, StateMachineDefinition } from 'aws-local-stepfunctions';
import type { LocalStage } from './local-stage';
import { type DefinitionPlan, planDefinition } from './private/asl';
import { type DistributedMapProcessor, rewriteDistributedMaps } from './private/child-executions';
import { rewriteNegatedTypeTests } from './private/choice-rules';
import { loadInterpreter } from './private/interpreter';

export interface InterpretedMachine {
  readonly machine: StateMachine;
  readonly plan: DefinitionPlan;
  /** By name of the synthetic Task state standing for each Distributed Map's processor. */
  readonly children: ReadonlyMap<string, DistributedMapProcessor & { readonly machine: StateMachine }>;
}

/** Thrown when the build is made if a state machine's definition is not valid ASL. */
export class InvalidDefinitionError extends Error {
  constructor(
    public readonly stateMachine: string,
    detail: string,
  ) {
    super(`State machine ${stateMachine} is not valid ASL, and Step Functions would refuse it: ${detail}`);
    this.name = 'InvalidDefinitionError';
  }
}

/**
 * The machines of one definition. `validate` checks it against the ASL schema first; the
 * engine leaves that to {@link checkStateMachines}.
 */
export async function interpretDefinition(name: string, definition: Record<string, unknown>, options: { readonly validate: boolean }): Promise<InterpretedMachine> {
  const { StateMachine } = await loadInterpreter();
  const plan = planDefinition(name, definition);
  const rewritten = rewriteDistributedMaps(rewriteNegatedTypeTests(definition));
  let machine: StateMachine;
  try {
    machine = new StateMachine(rewritten.definition as unknown as StateMachineDefinition, { validationOptions: { noValidate: !options.validate } });
  } catch (error) {
    throw new InvalidDefinitionError(name, error instanceof Error ? error.message : String(error));
  }
  // A processor is validated as part of its parent's definition (the Map state's ItemProcessor).
  const children = new Map(
    [...rewritten.distributedMaps].map(([state, map]) => [
      state,
      { ...map, machine: new StateMachine(map.processor as unknown as StateMachineDefinition, { validationOptions: { noValidate: true } }) },
    ]),
  );
  return { machine, plan, children };
}

/**
 * Checks every state machine of a build as the engine will run it: each can be interpreted
 * locally ({@link UnsupportedStateError} otherwise) and is valid ASL ({@link InvalidDefinitionError}).
 */
export async function checkStateMachines(stage: LocalStage): Promise<void> {
  for (const stateMachine of stage.stateMachines) await interpretDefinition(stateMachine.name, stateMachine.definition, { validate: true });
}
