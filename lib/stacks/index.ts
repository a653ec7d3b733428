export * from './app';
export * from './pipeline-stack';
export * from './platform-stack';
export * from './sluice-stage';
export * from './stage-config';
