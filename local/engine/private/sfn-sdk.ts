import { createRequire } from 'node:module';

type SfnModule = typeof import('@aws-sdk/client-sfn');
let loaded: SfnModule | undefined;

/**
 * The SDK's Step Functions module, loaded when first used rather than with the engine: the engine
 * needs it only to throw the API's errors and to recognise the commands its client is sent, and a
 * warm `sluice run` then loads it while its launcher's sandbox loads, not before that sandbox starts.
 */
export function sfnSdk(): SfnModule {
  return (loaded ??= createRequire(import.meta.url)('@aws-sdk/client-sfn') as SfnModule);
}

/** The errors of Step Functions' API that the engine throws. */
export type SfnErrorName = 'ExecutionAlreadyExists' | 'ExecutionDoesNotExist' | 'InvalidExecutionInput' | 'InvalidName' | 'StateMachineDoesNotExist';

/** One of the API's errors, as the SDK's client throws it. */
export function sfnError(name: SfnErrorName, message: string): Error {
  const ErrorClass = sfnSdk()[name];
  return new ErrorClass({ message, $metadata: {} });
}
