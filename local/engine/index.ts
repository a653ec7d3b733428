export * from './assembly';
export * from './assembly-error';
export * from './local-stage';
export * from './executor';
export * from './lambda';
export { IntrinsicError } from './private/intrinsics';
export { UnsupportedStateError } from './private/asl';
export * from './interpreted-machine';
