export * from './compile';
export * from './contract';
export * from './errors';
export * from './flow';
export * from './model';
export * from './partition-keys';
export * from './schedule';
export * from './validate';
