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
  it('accepts the definitions the engine can run', async () => {
    await expect(checkStateMachines(stageOf({ fine: VALID }))).resolves.toBeUndefined();
  });

  it('refuses a definition Step Functions would refuse, naming its state machine', async () => {
    const broken = { StartAt: 'Missing', States: { A: { Type: 'Pass', End: true } } };
    await expect(checkStateMachines(stageOf({ fine: VALID, broken }))).rejects.toThrow(InvalidDefinitionError);
    await expect(checkStateMachines(stageOf({ broken }))).rejects.toThrow(/State machine broken is not valid ASL/);
  });

  it('refuses a definition the local interpreter cannot run faithfully', async () => {
    const jsonata = { ...VALID, QueryLanguage: 'JSONata' };
    await expect(checkStateMachines(stageOf({ jsonata }))).rejects.toThrow(UnsupportedStateError);
  });
});

describe('interpretDefinition', () => {
  it('runs a definition without validating it again when asked', async () => {
    const { machine } = await interpretDefinition('fine', { StartAt: 'A', States: { A: { Type: 'Pass', Result: { ok: true }, End: true } } }, { validate: false });
    await expect(machine.run({}).result).resolves.toStrictEqual({ ok: true });
  });
});

describe('Choice type tests set to false', () => {
  // Step Functions takes `IsX: false` where the test fails; aws-local-stepfunctions never took it.
  const choose = async (rule: Record<string, unknown>) =>
    (
      await interpretDefinition(
      'choice',
      {
        StartAt: 'Choose',
        States: {
          Choose: { Type: 'Choice', Choices: [{ ...rule, Next: 'Taken' }], Default: 'Otherwise' },
          Taken: { Type: 'Pass', Result: 'taken', End: true },
          Otherwise: { Type: 'Pass', Result: 'otherwise', End: true },
        },
      },
      { validate: true },
    )
    ).machine;

  it.each([
    [{ Variable: '$.x', IsPresent: false }, {}, 'taken'],
    [{ Variable: '$.x', IsPresent: false }, { x: 1 }, 'otherwise'],
    [{ Variable: '$.x', IsNull: false }, { x: 1 }, 'taken'],
    [{ Variable: '$.x', IsNull: false }, { x: null }, 'otherwise'],
    [{ Variable: '$.x', IsNumeric: false }, { x: 'a' }, 'taken'],
    [{ Variable: '$.x', IsString: false }, { x: 1 }, 'taken'],
    [{ Variable: '$.x', IsBoolean: false }, { x: 1 }, 'taken'],
    [{ Variable: '$.x', IsTimestamp: false }, { x: 'soon' }, 'taken'],
    [{ Variable: '$.x', IsTimestamp: false }, { x: '2026-12-02T00:00:00Z' }, 'otherwise'],
    [{ And: [{ Variable: '$.a', StringEquals: 'yes' }, { Variable: '$.b', IsPresent: false }] }, { a: 'yes' }, 'taken'],
    [{ And: [{ Variable: '$.a', StringEquals: 'yes' }, { Variable: '$.b', IsPresent: false }] }, { a: 'yes', b: [] }, 'otherwise'],
    [{ Not: { Variable: '$.x', IsPresent: false } }, { x: 1 }, 'taken'],
  ])('%j on %j takes %s', async (rule, input, expected) => {
    expect(await (await choose(rule)).run(input).result).toBe(expected);
  });

  it('holds inside Map iterations, as the backfill state machine uses it', async () => {
    const { machine } = await interpretDefinition(
      'map',
      {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemsPath: '$.items',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'INLINE' },
              StartAt: 'One?',
              States: {
                'One?': { Type: 'Choice', Choices: [{ Variable: '$.partitions', IsPresent: false, Next: 'One' }], Default: 'Batch' },
                One: { Type: 'Pass', Result: 'one', End: true },
                Batch: { Type: 'Pass', Result: 'batch', End: true },
              },
            },
            End: true,
          },
        },
      },
      { validate: true },
    );
    expect(await machine.run({ items: [{ partition: 'a' }, { partition: 'b', partitions: ['b', 'c'] }] }).result).toStrictEqual(['one', 'batch']);
  });
});
