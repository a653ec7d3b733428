export * from './dynamodb';
export * from './event-pattern';
export * from './s3';
export * from './scheduler';
export * from './stepfunctions-api';
export * from './sns-api';
export * from './shared';
export * from './shared-host';
