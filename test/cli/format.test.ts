import { describe, expect, it } from 'vitest';
import { errorLine } from '../../local/cli/format';

describe('errorLine', () => {
  it('names the error and its message, unless the name is a plain Error, which says nothing more', () => {
    expect(errorLine('SourceUnavailableError', 'meter source unavailable')).toBe('SourceUnavailableError: meter source unavailable');
    expect(errorLine('Error', 'no inventory files under inventory/eu/')).toBe('no inventory files under inventory/eu/');
    // The message inside a Lambda error's JSON cause, as Step Functions reports it
    expect(errorLine('Error', JSON.stringify({ errorType: 'Error', errorMessage: 'no files' }))).toBe('no files');
    expect(errorLine('Error', undefined)).toBe('Error');
    expect(errorLine('States.Timeout', 'States.Timeout')).toBe('States.Timeout');
  });
});
