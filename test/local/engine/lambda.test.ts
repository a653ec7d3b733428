import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalLambda, type LocalFunction } from '../../../local/engine';

/** A function whose bundle is `source`, written to `dir`. */
function functionOf(dir: string, name: string, source: string): LocalFunction {
  const handlerFile = join(dir, `${name}.mjs`);
  writeFileSync(handlerFile, source);
  return {
    stackName: 'local-Test',
    logicalId: name,
    name,
    arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    handlerFile,
    handlerExport: 'handler',
    runtime: 'nodejs24.x',
    timeoutSeconds: 5,
    memoryMb: 128,
    environment: {},
  };
}

/** Waits until `check` holds, or fails after a few seconds. */
async function eventually(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  expect(check()).toBe(true);
}

describe('LocalLambda.prewarm', () => {
  let dir: string;
  let lambda: LocalLambda;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sluice-prewarm-'));
    lambda = new LocalLambda({ dynamodb: 'http://127.0.0.1:9' });
  });

  afterEach(async () => {
    await lambda.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads a function module before its first invocation, which then runs in that sandbox', async () => {
    // Given a bundle that marks its init and counts its inits at module scope
    const marker = join(dir, 'inits');
    const fn = functionOf(
      dir,
      'counted',
      `import { appendFileSync } from 'node:fs';
       appendFileSync(${JSON.stringify(marker)}, 'init\\n');
       export const handler = async () => ({ inits: ${JSON.stringify(marker)} });`,
    );

    // When it is prewarmed, then invoked
    lambda.prewarm([fn]);
    await eventually(() => existsSync(marker));
    const result = await lambda.invoke(fn, {});

    // Then the module loaded once, before the invocation, and the invocation used it
    expect(result.ok).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('init\n');
  });

  it('prewarms the functions in the order given, one after the other', async () => {
    // Given three bundles that each append their name to one file when they load
    const order = join(dir, 'order');
    const fns = ['first', 'second', 'third'].map((name) =>
      functionOf(dir, name, `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(order)}, '${name}\\n'); export const handler = async () => null;`),
    );

    // When they are prewarmed
    lambda.prewarm(fns);

    // Then they load in that order
    await eventually(() => existsSync(order) && readFileSync(order, 'utf8').split('\n').length === 4);
    expect(readFileSync(order, 'utf8')).toBe('first\nsecond\nthird\n');
  });

  it('prewarms as many functions at once as it is given lanes, and one at a time otherwise', async () => {
    // Given bundles whose load marks its start, then waits for a go-ahead
    const go = join(dir, 'go');
    const started = (name: string) => join(dir, `${name}-started`);
    const blocking = (name: string) =>
      functionOf(
        dir,
        name,
        `import { existsSync, writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(started(name))}, ''); while (!existsSync(${JSON.stringify(go)})) await new Promise((r) => setTimeout(r, 10)); export const handler = async () => null;`,
      );

    // When two are prewarmed one at a time, the first loads and the second waits for it
    lambda.prewarm([blocking('one-a'), blocking('one-b')]);
    await eventually(() => existsSync(started('one-a')));
    expect(existsSync(started('one-b'))).toBe(false);
    // And two more with two lanes: a second lane takes the next in line (one-b) beside one-a
    lambda.prewarm([blocking('two-a'), blocking('two-b')], 2);
    await eventually(() => existsSync(started('one-b')));

    // Then while those two loads wait, no third has started; once they end, the rest load
    expect(['two-a', 'two-b'].filter((name) => existsSync(started(name)))).toEqual([]);
    writeFileSync(go, '');
    await eventually(() => ['two-a', 'two-b'].every((name) => existsSync(started(name))));
  });

  it('reports a failed init to the invocation that takes the prewarmed sandbox, and runs the next one in a fresh sandbox', async () => {
    // Given a bundle whose init fails the first time only
    const failed = join(dir, 'failed');
    const fn = functionOf(
      dir,
      'flaky-init',
      `import { existsSync, writeFileSync } from 'node:fs';
       if (!existsSync(${JSON.stringify(failed)})) { writeFileSync(${JSON.stringify(failed)}, ''); throw new Error('init failed'); }
       export const handler = async () => 'ok';`,
    );

    // When it is prewarmed, and invoked twice once its init has failed
    lambda.prewarm([fn]);
    await eventually(() => existsSync(failed));
    const first = await lambda.invoke(fn, {});
    const second = await lambda.invoke(fn, {});

    // Then the first invocation fails with the init's error, as Lambda reports an init error, and the second succeeds
    expect(first).toMatchObject({ ok: false, errorType: 'Error', errorMessage: 'init failed' });
    expect(second).toMatchObject({ ok: true, payload: 'ok' });
  });

  it('does not prewarm a function a stand-in handler replaces', async () => {
    // Given a bundle that marks its init, replaced by a stand-in, and another that marks its own
    const marker = join(dir, 'loaded');
    const fn = functionOf(dir, 'replaced', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, ''); export const handler = async () => null;`);
    const otherMarker = join(dir, 'other-loaded');
    const other = functionOf(dir, 'other', `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(otherMarker)}, ''); export const handler = async () => null;`);
    lambda.replaceHandler(fn, async () => 'stand-in');

    // When both are prewarmed, the replaced one first, and it is invoked
    lambda.prewarm([fn, other]);
    const result = await lambda.invoke(fn, {});

    // Then the stand-in answered, and once the prewarm has reached the other bundle (they load one
    // at a time, in order), the replaced bundle has still never loaded
    expect(result).toMatchObject({ ok: true, payload: 'stand-in' });
    await expect.poll(() => existsSync(otherMarker)).toBe(true);
    expect(existsSync(marker)).toBe(false);
  });
});
