import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as ssm from 'aws-cdk-lib/aws-ssm';

/** A secret a task may read: a Secrets Manager secret or an SSM parameter, and the name it is read by. */
export type TaskSecret =
  | { readonly kind: 'secretsManager'; readonly secret: secretsmanager.ISecret; readonly id: string }
  | { readonly kind: 'ssmParameter'; readonly parameter: ssm.IStringParameter; readonly id: string };

/** Thrown when a pipeline refers to something the construct was not given. */
export class PipelineWiringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PipelineWiringError';
  }
}
