/**
 * A run parameter: a typed value every task of a run receives in `event.params`, given at launch
 * (`sluice run --param name=value`, the launcher's `params`) or else its default. Scheduled and
 * S3-triggered runs use the defaults, so every parameter has one.
 */
export type ParamDefinition =
  | { readonly type: 'string'; readonly default: string; readonly description?: string }
  | { readonly type: 'number'; readonly default: number; readonly description?: string }
  | { readonly type: 'boolean'; readonly default: boolean; readonly description?: string };

/** Declares a text parameter. */
export function stringParam(props: { readonly default: string; readonly description?: string }): ParamDefinition {
  return Object.freeze({ type: 'string', ...props });
}

/** Declares a numeric parameter (any finite number). */
export function numberParam(props: { readonly default: number; readonly description?: string }): ParamDefinition {
  return Object.freeze({ type: 'number', ...props });
}

/** Declares a `true`/`false` parameter. */
export function booleanParam(props: { readonly default: boolean; readonly description?: string }): ParamDefinition {
  return Object.freeze({ type: 'boolean', ...props });
}
