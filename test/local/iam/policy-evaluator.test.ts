import { describe, expect, it } from 'vitest';
import { evaluatePolicies, type PolicyStatement } from '../../../local/iam/policy-evaluator';

const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/sluice-local-partitions';

describe('evaluatePolicies', () => {
  it('allows an action and resource a statement grants, with wildcards and case-insensitive actions', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: ['dynamodb:Get*', 's3:getobject'], Resource: [TABLE, 'arn:aws:s3:::raw/*'] }];
    expect(evaluatePolicies(statements, { action: 'dynamodb:GetItem', resource: TABLE }).kind).toBe('allowed');
    expect(evaluatePolicies(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::raw/a/b.csv' }).kind).toBe('allowed');
  });

  it('denies implicitly what no statement grants: another action, or an index of the table', () => {
    const statements: PolicyStatement[] = [{ Effect: 'Allow', Action: 'dynamodb:Query', Resource: `${TABLE}/index/running` }];
    expect(evaluatePolicies(statements, { action: 'dynamodb:Query', resource: TABLE }).kind).toBe('implicitly-denied');
    expect(evaluatePolicies(statements, { action: 'dynamodb:Scan', resource: `${TABLE}/index/running` }).kind).toBe('implicitly-denied');
  });

  it('lets an explicit Deny win over any Allow, and honours NotAction and NotResource', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 's3:Get*', Resource: 'arn:aws:s3:::raw/*' },
      { Effect: 'Deny', Action: 'dynamodb:DeleteItem', NotResource: `${TABLE}-scratch` },
    ];
    expect(evaluatePolicies(statements, { action: 's3:PutObject', resource: 'arn:aws:s3:::raw/x' }).kind).toBe('explicitly-denied');
    expect(evaluatePolicies(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::raw/x' }).kind).toBe('allowed');
    expect(evaluatePolicies(statements, { action: 'dynamodb:DeleteItem', resource: TABLE }).kind).toBe('explicitly-denied');
    expect(evaluatePolicies(statements, { action: 'dynamodb:DeleteItem', resource: `${TABLE}-scratch` }).kind).toBe('allowed');
  });

  it('evaluates conditions on known keys', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: 'sns:Publish', Resource: '*', Condition: { Bool: { 'aws:SecureTransport': 'true' }, StringLike: { 'aws:PrincipalArn': ['arn:aws:iam::*:role/ops-*'] } } },
    ];
    const request = (principal: string) => ({ action: 'sns:Publish', resource: 'arn:aws:sns:us-east-1:0:t', context: { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': principal } });
    expect(evaluatePolicies(statements, request('arn:aws:iam::0:role/ops-monitor')).kind).toBe('allowed');
    expect(evaluatePolicies(statements, request('arn:aws:iam::0:role/task')).kind).toBe('implicitly-denied');
  });

  it('reports a condition it cannot evaluate instead of deciding, naming it', () => {
    const statements: PolicyStatement[] = [
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: '*', Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } },
    ];
    expect(evaluatePolicies(statements, { action: 's3:GetObject', resource: 'arn:aws:s3:::raw/x', context: {} })).toMatchObject({
      kind: 'undecided',
      reason: 'condition operator IpAddress is not evaluated locally',
    });
    expect(evaluatePolicies(statements, { action: 's3:PutObject', resource: 'arn:aws:s3:::raw/x', context: {} })).toMatchObject({
      kind: 'undecided',
      reason: 'condition StringEquals on s3:x-amz-acl: the local runtime does not know s3:x-amz-acl',
    });
  });
});
