import { describe, expect, it } from 'vitest';
import type { LocalStage } from '../../../local/engine/local-stage';
import { InvalidDefinitionError, checkStateMachines, interpretDefinition } from '../../../local/engine/interpreted-machine';
import { UnsupportedStateError } from '../../../local/engine/private/asl';

/** A stage holding only the state machines the check reads. */
function stageOf(definitions: Record<string, Record<string, unknown>>): LocalStage {
  return { stateMachines: Object.entries(definitions).map(([name, definition]) => ({ name, definition })) } as unknown as LocalStage;
}

const VALID = { StartAt: 'A', States: { A: { Type: 'Pass', End: true } } };

describe('checkStateMachines', () => {
  it('accepts the definitions the engine can run', () => {
    expect(() => checkStateMachines(stageOf({ fine: VALID }))).not.toThrow();
  });

  it('refuses a definition Step Functions would refuse, naming its state machine', () => {
    const broken = { StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } };
    expect(() => checkStateMachines(stageOf({ fine: VALID, broken }))).toThrow(InvalidDefinitionError);
    expect(() => checkStateMachines(stageOf({ broken }))).toThrow(/State machine broken is not valid ASL/);
  });

  it('refuses a definition the local interpreter cannot run faithfully', () => {
    const jsonata = { ...VALID, QueryLanguage: 'JSONata' };
    expect(() => checkStateMachines(stageOf({ jsonata }))).toThrow(UnsupportedStateError);
  });
});

describe('interpretDefinition', () => {
  it('runs a definition without validating it again when asked', async () => {
    const { machine } = interpretDefinition('fine', { StartAt: 'A', States: { A: { Type: 'Pass', Result: { ok: true }, End: true } } }, { validate: false });
    await expect(machine.run({}).result).resolves.toStrictEqual({ ok: true });
  });
});
