import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../local/services/event-pattern';

/** The S3 event of the EventBridge docs, with fields the operator examples filter on. */
const EVENT = {
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': 'Object Created',
  source: 'aws.s3',
  account: '111122223333',
  time: '2017-10-02T18:43:48Z',
  region: 'ca-central-1',
  resources: ['arn:aws:s3:::raw'],
  detail: {
    bucket: { name: 'raw' },
    object: { key: 'sales/2024-01-01/a+b%2Bc.csv', size: 5, etag: 'b1946ac92492d2347c6235b4d2611184' },
    reason: 'PutObject',
    state: 'initializing',
    'c-count': 5,
    'd-count': 0,
    'x-limit': 301.8,
    FileName: 'image.PNG',
    FilePath: '/usr/lib/node',
    service: 'EventBridge',
    Name: 'Alice',
    LastName: '',
    middleName: null,
    tags: ['blue', 'green'],
    instances: [{ state: 'running' }, { state: 'stopped' }],
  },
};

const cases: [string, object, boolean][] = [
  // exact values: array = OR, nested objects = AND
  ['exact source', { source: ['aws.s3'] }, true],
  ['exact source, other', { source: ['aws.ec2'] }, false],
  ['one of several values', { source: ['aws.ec2', 'aws.s3'] }, true],
  ['nested exact', { detail: { bucket: { name: ['raw'] } } }, true],
  ['nested exact, other bucket', { detail: { bucket: { name: ['curated'] } } }, false],
  ['all fields must match', { source: ['aws.s3'], 'detail-type': ['Object Deleted'] }, false],
  ['number', { detail: { 'c-count': [5] } }, true],
  ['string does not equal number', { detail: { 'c-count': ['5'] } }, false],
  ['null', { detail: { middleName: [null] } }, true],
  ['empty string', { detail: { LastName: [''] } }, true],
  ['event array: any element', { detail: { tags: ['green'] } }, true],
  ['event array of objects', { detail: { instances: { state: ['stopped'] } } }, true],
  ['missing field', { detail: { color: ['blue'] } }, false],
  ['pattern object on a scalar', { source: { name: ['aws.s3'] } }, false],
  // prefix / suffix
  ['prefix', { time: [{ prefix: '2017-10-02' }] }, true],
  ['prefix, other', { time: [{ prefix: '2018' }] }, false],
  ['prefix on a number', { detail: { 'c-count': [{ prefix: '5' }] } }, false],
  ['prefix ignoring case', { detail: { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] } }, true],
  ['suffix is case-sensitive', { detail: { FileName: [{ suffix: '.png' }] } }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, true],
  ['S3 key prefix and suffix', { detail: { object: { key: [{ prefix: 'sales/' }] }, reason: ['PutObject'] } }, true],
  // equals-ignore-case
  ['equals-ignore-case', { detail: { Name: [{ 'equals-ignore-case': 'alice' }] } }, true],
  ['equals-ignore-case, other', { detail: { Name: [{ 'equals-ignore-case': 'bob' }] } }, false],
  // wildcard
  ['wildcard', { detail: { FilePath: [{ wildcard: '*/lib/*' }] } }, true],
  ['wildcard, no match', { detail: { FilePath: [{ wildcard: '*/bin/*' }] } }, false],
  ['wildcard spans slashes', { detail: { object: { key: [{ wildcard: 'sales/*.csv' }] } } }, true],
  ['wildcard anchors both ends', { detail: { object: { key: [{ wildcard: 'ales/*' }] } } }, false],
  ['wildcard without star is exact', { detail: { Name: [{ wildcard: 'Ali' }] } }, false],
  ['wildcard escaped star is literal', { detail: { Name: [{ wildcard: 'Al\\*' }] } }, false],
  // anything-but
  ['anything-but value', { detail: { state: [{ 'anything-but': 'initializing' }] } }, false],
  ['anything-but other value', { detail: { state: [{ 'anything-but': 'stopped' }] } }, true],
  ['anything-but number', { detail: { 'c-count': [{ 'anything-but': 123 }] } }, true],
  ['anything-but list', { detail: { state: [{ 'anything-but': ['stopped', 'initializing'] }] } }, false],
  ['anything-but prefix', { region: [{ 'anything-but': { prefix: 'us-' } }] }, true],
  ['anything-but prefix, excluded', { region: [{ 'anything-but': { prefix: 'ca-' } }] }, false],
  ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.PNG' } }] } }, false],
  ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'INITIALIZING' } }] } }, false],
  ['anything-but wildcard', { detail: { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false],
  ['anything-but on a missing field', { detail: { color: [{ 'anything-but': 'blue' }] } }, false],
  // exists
  ['exists true', { detail: { state: [{ exists: true }] } }, true],
  ['exists true, missing', { detail: { color: [{ exists: true }] } }, false],
  ['exists false, missing', { detail: { color: [{ exists: false }] } }, true],
  ['exists false, present', { detail: { state: [{ exists: false }] } }, false],
  ['exists only on leaves', { detail: { bucket: [{ exists: true }] } }, false],
  // numeric
  ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
  ['numeric range, outside', { detail: { 'd-count': [{ numeric: ['<', 10] }], 'c-count': [{ numeric: ['>', 5] }] } }, false],
  ['numeric equals', { detail: { 'x-limit': [{ numeric: ['=', 301.8] }] } }, true],
  ['numeric on a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
  // $or
  ['$or, second branch', { detail: { $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['<', 10] }] }] } }, true],
  ['$or, no branch', { detail: { $or: [{ 'c-count': [10] }, { 'd-count': [10] }] } }, false],
  ['$or with other fields', { source: ['aws.ec2'], $or: [{ region: ['ca-central-1'] }, { account: ['1'] }] }, false],
  ['top-level $or', { $or: [{ source: ['aws.ec2'] }, { detail: { Name: ['Alice'] } }] }, true],
];

describe('matchesPattern', () => {
  it.each(cases)('%s', (_name, pattern, expected) => {
    expect(matchesPattern(pattern, EVENT)).toBe(expected);
  });

  it('fails on an unsupported operator, naming it and where it is', () => {
    expect(() => matchesPattern({ detail: { sourceIp: [{ cidr: '10.0.0.0/24' }] } }, EVENT)).toThrow(
      'Event pattern operator "cidr" at "detail.sourceIp" is not supported by the local EventBridge matcher',
    );
  });

  it('fails on an unsupported operator even behind a field that does not match', () => {
    // Given a pattern whose first field already fails for this event
    const pattern = { source: ['aws.ec2'], detail: { key: [{ contains: 'sales' }] } };

    // Then the unsupported operator is still reported
    expect(() => matchesPattern(pattern, EVENT)).toThrow('Event pattern operator "contains" at "detail.key"');
  });

  it('fails on a leaf that is not an array', () => {
    expect(() => matchesPattern({ source: 'aws.s3' }, EVENT)).toThrow(
      'Event pattern field "source" must be an array of match values or a nested object, got "aws.s3".',
    );
  });

  it('fails on a numeric operand that is not comparator/number pairs', () => {
    expect(() => matchesPattern({ detail: { 'c-count': [{ numeric: ['>', '0'] }] } }, EVENT)).toThrow(
      '"numeric" at "detail.c-count" has an invalid pair [">","0"].',
    );
  });

  it('fails on a pattern that is not an object', () => {
    expect(() => matchesPattern(['aws.s3'], EVENT)).toThrow('An event pattern must be a JSON object.');
  });
});
