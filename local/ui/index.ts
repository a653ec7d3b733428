export * from './server';
export * from './source';
export * from './local-source';
export type * from './views';
export * from './reloading-source';
export * from './stage-source';
