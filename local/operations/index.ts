export * from './operations';
export * from './partition-views';
export * from './deployed-stage';
