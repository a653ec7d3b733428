export * from './environment';
export * from './launch';
export * from './partition-store';
export * from './run-monitor';
export * from './reconcile';
export * from './consumed';
export * from './retry';
