import { describe, expect, it } from 'vitest';
import { parseFieldEqualities } from '../../../local/services/logs-api';

describe('parseFieldEqualities (the CloudWatch Logs filter patterns the local FilterLogEvents serves)', () => {
  it('reads the JSON-field equalities sluice logs --stage sends', () => {
    expect(parseFieldEqualities('{ $.runId = "steps_2024-04-01_a1" && $.attempt = 2 }')).toStrictEqual({ runId: 'steps_2024-04-01_a1', attempt: 2 });
    expect(parseFieldEqualities('{ $.runId = "a\\"b" }')).toStrictEqual({ runId: 'a"b' });
  });

  it('refuses any other pattern rather than match it wrongly', () => {
    expect(parseFieldEqualities('ERROR')).toBeUndefined();
    expect(parseFieldEqualities('{ $.runId = "x" || $.task = "y" }')).toBeUndefined();
    expect(parseFieldEqualities('{ $.attempt > 1 }')).toBeUndefined();
  });
});
