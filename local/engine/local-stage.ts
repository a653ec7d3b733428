/**
 * One stage of a cloud assembly as the local runtime sees it: its functions, state machines,
 * rules, schedules, queues, tables, buckets, topics, roles and parameters, every property the
 * runtime reads resolved to local names (built by `loadStage`, assembly.ts).
 */
import type { Environment } from './private/physical';

/** A Lambda function of the template, runnable from its bundle in `cdk.out`. */
export interface LocalFunction {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Absolute path of the bundle file the `Handler` names (`index.js`, `index.mjs` or `index.cjs`). */
  readonly handlerFile: string;
  /** The export the `Handler` names. */
  readonly handlerExport: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  /** The function's environment variables, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  /** ARN of its execution role, whose identity policies decide its AWS calls. */
  readonly roleArn?: string;
}

/** A state machine of the template with its definition as the template holds it. */
export interface LocalStateMachine {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** The ASL, parsed from the resolved `DefinitionString` (or `Definition`). */
  readonly definition: Record<string, unknown>;
  /** The resource's template `Metadata`. */
  readonly metadata: Readonly<Record<string, unknown>>;
  /** ARN of its role, whose identity policies decide its Task states' calls. */
  readonly roleArn?: string;
}

/** An `AWS::IAM::Role` with the statements of its identity policies, resolved. */
export interface LocalRole {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Every statement of its inline policies and of the `AWS::IAM::Policy` resources naming it. */
  readonly statements: readonly Record<string, unknown>[];
  /** Policies whose content the template does not hold (AWS managed ones, by ARN) or that did not resolve. */
  readonly unknownPolicies: readonly string[];
}

/** A target of an EventBridge rule, resolved. */
export interface LocalRuleTarget {
  readonly id: string;
  readonly arn: string;
  readonly input?: string;
  readonly inputPath?: string;
  readonly inputTransformer?: { readonly inputPathsMap?: Record<string, string>; readonly inputTemplate: string };
  /** Every property of the target as the template holds it, resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** An `AWS::Events::Rule`. */
export interface LocalRule {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly eventBusName: string;
  readonly eventPattern?: Record<string, unknown>;
  readonly scheduleExpression?: string;
  readonly enabled: boolean;
  readonly targets: readonly LocalRuleTarget[];
}

/** An `AWS::Scheduler::Schedule`. */
export interface LocalSchedule {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** `cron(...)`, `rate(...)` or `at(...)`. */
  readonly scheduleExpression: string;
  /** IANA zone of the expression. @default 'UTC' */
  readonly timezone: string;
  readonly enabled: boolean;
  /** `FlexibleTimeWindow.MaximumWindowInMinutes` when the mode is `FLEXIBLE`. */
  readonly flexibleWindowMinutes?: number;
  readonly startDate?: string;
  readonly endDate?: string;
  readonly description?: string;
  readonly target: { readonly arn: string; readonly input?: string; readonly properties: Readonly<Record<string, unknown>> };
}

/** An `AWS::SQS::Queue`. */
export interface LocalQueue {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly url: string;
  readonly visibilityTimeoutSeconds: number;
  readonly deadLetter?: { readonly targetArn: string; readonly maxReceiveCount: number };
}

/** An `AWS::Lambda::EventSourceMapping` (a queue feeding a function). */
export interface LocalEventSourceMapping {
  readonly stackName: string;
  readonly logicalId: string;
  readonly eventSourceArn: string;
  /** The function, as the template names it (name or ARN). */
  readonly functionName: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly enabled: boolean;
}

/** An `AWS::DynamoDB::Table`; `properties` can feed `CreateTable`. */
export interface LocalTable {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** An `AWS::S3::Bucket`. */
export interface LocalBucket {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  /** Whether the bucket sends its events to EventBridge. */
  readonly eventBridgeEnabled: boolean;
}

/** An `AWS::SNS::Topic`. */
export interface LocalTopic {
  readonly stackName: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/** One stack of the stage. */
export interface LocalStack {
  readonly stackName: string;
  /** Artifact id in the assembly manifest. */
  readonly artifactId: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  /** Outputs, resolved. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** One stage of `cdk.out`, its resources resolved to local names. */
export interface LocalStage {
  readonly stage: string;
  /** Directory of the stage's nested assembly. */
  readonly directory: string;
  readonly environment: Environment;
  readonly stacks: readonly LocalStack[];
  readonly functions: readonly LocalFunction[];
  /** Functions whose code cannot run locally (inline code, container images), with the reason. */
  readonly unrunnableFunctions: readonly { readonly name: string; readonly arn: string; readonly reason: string }[];
  readonly stateMachines: readonly LocalStateMachine[];
  readonly rules: readonly LocalRule[];
  readonly schedules: readonly LocalSchedule[];
  readonly queues: readonly LocalQueue[];
  readonly eventSourceMappings: readonly LocalEventSourceMapping[];
  readonly tables: readonly LocalTable[];
  readonly buckets: readonly LocalBucket[];
  readonly topics: readonly LocalTopic[];
  readonly roles: readonly LocalRole[];
  /** The SSM parameters (`AWS::SSM::Parameter`) the stage's stacks publish: name → value. */
  readonly parameters: ReadonlyMap<string, string>;
  /** The function with this name or ARN (qualified or not). */
  findFunction(nameOrArn: string): LocalFunction | undefined;
  /** The state machine with this name or ARN. */
  findStateMachine(nameOrArn: string): LocalStateMachine | undefined;
}

/** The parts of a CloudFormation template the local runtime reads. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown; readonly Export?: { readonly Name: unknown } }>;
  readonly Parameters?: Record<string, { readonly Type?: string; readonly Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** `arn:aws:lambda:r:a:function:name[:qualifier]`, `a:function:name` or `name` → `name`. */
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
}
