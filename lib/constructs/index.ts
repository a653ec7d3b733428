export * from './backfill-state-machine';
export * from './run-end-rule';
export * from './launcher';
export * from './partition-table';
export * from './pipeline-state-machine';
export * from './run-monitor';
export * from './s3-arrival-trigger';
export * from './schedule-trigger';
