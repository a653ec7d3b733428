import { describe, expect, it } from 'vitest';
import { type IntrinsicScope, resolveValue } from '../../../../local/engine/private/intrinsics';

const scope: IntrinsicScope = {
  stackName: 'local-Pipeline',
  region: 'us-east-1',
  account: '000000000000',
  mappings: { Sizes: { small: { mb: 128 } } },
  ref: (id) => `ref-of-${id}`,
  getAtt: (id, attribute) => `${attribute}-of-${id}`,
  importValue: (name) => `import-of-${name}`,
};

describe('resolveValue', () => {
  it('resolves pseudo parameters, Ref and Fn::GetAtt in both forms', () => {
    expect(
      resolveValue(
        [{ Ref: 'AWS::Region' }, { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Partition' }, { Ref: 'AWS::URLSuffix' }, { Ref: 'AWS::StackName' }, { Ref: 'Fn' }, { 'Fn::GetAtt': ['Fn', 'Arn'] }, { 'Fn::GetAtt': 'Q.QueueUrl' }],
        scope,
        'test',
      ),
    ).toStrictEqual(['us-east-1', '000000000000', 'aws', 'amazonaws.com', 'local-Pipeline', 'ref-of-Fn', 'Arn-of-Fn', 'QueueUrl-of-Q']);
  });

  it('resolves Fn::Sub in its string and its [string, variables] forms, keeping ${!literal}', () => {
    expect(resolveValue({ 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/${Fn.Arn}/${!Literal}' }, scope, 'test')).toBe(
      'arn:aws:s3:::ref-of-Bucket/Arn-of-Fn/${Literal}',
    );
    expect(resolveValue({ 'Fn::Sub': ['${Name}-${AWS::Region}', { Name: { Ref: 'Table' } }] }, scope, 'test')).toBe('ref-of-Table-us-east-1');
  });

  it('resolves Fn::Join, Fn::Select, Fn::Split, Fn::ImportValue and Fn::FindInMap', () => {
    expect(resolveValue({ 'Fn::Join': ['/', ['a', { Ref: 'B' }]] }, scope, 'test')).toBe('a/ref-of-B');
    expect(resolveValue({ 'Fn::Select': [1, { 'Fn::Split': [':', 'x:y:z'] }] }, scope, 'test')).toBe('y');
    expect(resolveValue({ 'Fn::ImportValue': { 'Fn::Sub': '${AWS::Region}-out' } }, scope, 'test')).toBe('import-of-us-east-1-out');
    expect(resolveValue({ 'Fn::FindInMap': ['Sizes', 'small', 'mb'] }, scope, 'test')).toBe(128);
  });

  it('drops properties that resolve to AWS::NoValue', () => {
    expect(resolveValue({ keep: 1, drop: { Ref: 'AWS::NoValue' } }, scope, 'test')).toStrictEqual({ keep: 1 });
  });

  it('fails on an unsupported intrinsic, naming where it is and the intrinsic', () => {
    expect(() => resolveValue({ Env: { 'Fn::If': ['IsProd', 'a', 'b'] } }, scope, 'local-Pipeline/Fn (AWS::Lambda::Function)')).toThrow(
      'local-Pipeline/Fn (AWS::Lambda::Function).Env: cannot resolve Fn::If locally',
    );
  });

  it('fails on Fn::Select out of range', () => {
    expect(() => resolveValue({ 'Fn::Select': [3, ['a']] }, scope, 'R')).toThrow('R: cannot resolve Fn::Select locally: index 3 is out of the list ["a"]');
  });
});
