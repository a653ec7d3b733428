export * from './partitions';
export * from './pipeline';
export * from './retry';
export * from './task';
export * from './triggers';
export * from './upstream';
export * from './params';
