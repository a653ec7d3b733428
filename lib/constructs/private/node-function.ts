import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The Lambda runtime of every sluice function. Pinned, never `latest`: synth must be reproducible
 * offline, and the local runtime runs the same Node major (the `node` devDependency).
 */
export const SLUICE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface SluiceFunctionProps {
  /** Absolute path of the handler module; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * A bundled Node.js function with its own role and log group. The role is created here, not by
 * `NodejsFunction`, so that it carries no AWS managed policy: it may write to its own log group
 * and nothing else until a construct grants it more.
 */
export class SluiceFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      runtime: SLUICE_RUNTIME,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      environment: props.environment,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        logLevel: LogLevel.ERROR,
        format: OutputFormat.ESM,
        // ESM bundles need `require` for the CommonJS parts of the AWS SDK and Powertools.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
    });
  }
}


