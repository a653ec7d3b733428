import { describe, expect, it } from 'vitest';
import { parseFilterPattern } from '../../../local/services/logs-api';

describe('parseFilterPattern (the CloudWatch Logs filter patterns the local FilterLogEvents serves)', () => {
  it('reads the JSON-field equalities sluice logs --stage sends, joined by && or by ||', () => {
    expect(parseFilterPattern('{ $.sluice = "start" && $.runId = "steps_2024-04-01_r1" && $.attempt = 2 }')).toStrictEqual({
      join: '&&',
      fields: [
        ['sluice', 'start'],
        ['runId', 'steps_2024-04-01_r1'],
        ['attempt', 2],
      ],
    });
    expect(parseFilterPattern('{ $.requestId = "a" || $.function_request_id = "a" }')).toStrictEqual({
      join: '||',
      fields: [
        ['requestId', 'a'],
        ['function_request_id', 'a'],
      ],
    });
    expect(parseFilterPattern('{ $.runId = "a\\"b" }')).toStrictEqual({ join: '&&', fields: [['runId', 'a"b']] });
  });

  it('refuses any other pattern rather than match it wrongly', () => {
    expect(parseFilterPattern('ERROR')).toBeUndefined();
    expect(parseFilterPattern('{ $.runId = "x" || $.task = "y" && $.attempt = 1 }')).toBeUndefined();
    expect(parseFilterPattern('{ $.attempt > 1 }')).toBeUndefined();
  });
});
