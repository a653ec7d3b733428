import { describe, expect, it } from 'vitest';
import { LocalAuthorizer } from '../../../local/iam/authorizer';
import type { LocalRole } from '../../../local/engine/local-stage';

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/sluice-local-partitions';

function role(name: string, statements: Record<string, unknown>[]): LocalRole {
  return { stackName: 'local-Platform', logicalId: name, name, arn: `arn:aws:iam::000000000000:role/${name}`, statements, unknownPolicies: [] };
}

describe('LocalAuthorizer', () => {
  it('decides each role, action and resource on its own, however often each is asked', () => {
    // Given a role that may read the table, and one that may not
    const reader = role('reader', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE }]);
    const other = role('other', [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::raw/*' }]);
    const authorizer = new LocalAuthorizer([reader, other], '000000000000');

    // When the same calls are asked twice, the second time in the reverse order
    const checks = [
      { accessKeyId: authorizer.accessKeyIdOf(reader.arn), action: 'dynamodb:GetItem', resource: TABLE },
      { accessKeyId: authorizer.accessKeyIdOf(reader.arn), action: 'dynamodb:PutItem', resource: TABLE },
      { accessKeyId: authorizer.accessKeyIdOf(other.arn), action: 'dynamodb:GetItem', resource: TABLE },
    ];
    const first = checks.map((check) => authorizer.authorize(check));
    const again = [...checks].reverse().map((check) => authorizer.authorize(check)).reverse();

    // Then a decision never leaks to another action or role
    expect(first[0]).toBeUndefined();
    expect(first[1]).toMatch(/assumed-role\/reader\/.* is not authorized to perform: dynamodb:PutItem on resource: .*table\/sluice-local-partitions because no identity-based policy allows/);
    expect(first[2]).toMatch(/assumed-role\/other\/.* is not authorized to perform: dynamodb:GetItem/);
    expect(again).toStrictEqual(first);
    expect(() => authorizer.assertAllowed(reader.arn, 'dynamodb:PutItem', TABLE)).toThrow(/not authorized to perform: dynamodb:PutItem/);
  });
});
