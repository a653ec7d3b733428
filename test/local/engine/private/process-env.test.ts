import { describe, expect, it } from 'vitest';
import { withEnvironment } from '../../../../local/engine/private/process-env';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('withEnvironment', () => {
  it('gives concurrent invocations their own process.env, across awaits', async () => {
    // Given two invocations that interleave
    const read = async (value: string) => {
      const env = { FUNCTION: value };
      return withEnvironment(env, async () => {
        const seen: (string | undefined)[] = [process.env.FUNCTION];
        await tick();
        process.env.WRITTEN = value;
        await tick();
        seen.push(process.env.FUNCTION, process.env.WRITTEN, String(Object.keys(process.env).sort()));
        return seen;
      });
    };

    // When they run at once
    const [a, b] = await Promise.all([read('a'), read('b')]);

    // Then each saw only its own environment, and the host's is untouched
    expect(a).toStrictEqual(['a', 'a', 'a', 'FUNCTION,WRITTEN']);
    expect(b).toStrictEqual(['b', 'b', 'b', 'FUNCTION,WRITTEN']);
    expect(process.env.FUNCTION).toBeUndefined();
    expect(process.env.PATH).toBeDefined();
  });
});
