/**
 * Models a stage's resources from its resolved templates: what the local runtime reads of each
 * resource type it serves (the loader, assembly.ts, resolves the intrinsics).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AssemblyError } from './assembly-error';
import type {
  CfnResource,
  CfnTemplate,
  LocalBucket,
  LocalEventSourceMapping,
  LocalFunction,
  LocalQueue,
  LocalRole,
  LocalRule,
  LocalSchedule,
  LocalStack,
  LocalStage,
  LocalStateMachine,
  LocalTable,
  LocalTopic,
} from './local-stage';
import { functionNameOf } from './local-stage';
import { type IntrinsicScope, resolveValue } from './private/intrinsics';
import type { Environment, PhysicalResource } from './private/physical';

/** A stack as the loader read it, with the scope that resolves its intrinsics. */
export interface LoadedStack {
  readonly artifactId: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  readonly environment: Environment;
  /** Asset object key (`<hash>.zip`) → absolute asset directory. */
  readonly assets: ReadonlyMap<string, string>;
  readonly scope: IntrinsicScope;
}

/** The physical name and attributes of a stack's resource (the loader's, cached). */
export type PhysicalOf<S extends LoadedStack> = (stack: S, logicalId: string, where: string) => PhysicalResource;

/**
 * The stage's resources, modelled from `stacks` (all of one stage, read by the loader): functions
 * whose code cannot run locally are listed with the reason rather than failing the stage, and
 * each role gets the statements of every policy attached to it.
 */
export function modelStage<S extends LoadedStack>(stage: string, directory: string, stacks: readonly S[], physicalOf: PhysicalOf<S>): LocalStage {
  const functions: LocalFunction[] = [];
  const unrunnableFunctions: { name: string; arn: string; reason: string }[] = [];
  const stateMachines: LocalStateMachine[] = [];
  const rules: LocalRule[] = [];
  const schedules: LocalSchedule[] = [];
  const queues: LocalQueue[] = [];
  const eventSourceMappings: LocalEventSourceMapping[] = [];
  const tables: LocalTable[] = [];
  const buckets: LocalBucket[] = [];
  const topics: LocalTopic[] = [];
  const parameters = new Map<string, string>();
  const localStacks: LocalStack[] = [];
  const roles = new Map<string, { role: Omit<LocalRole, 'statements' | 'unknownPolicies'>; statements: Record<string, unknown>[]; unknownPolicies: string[] }>();
  const policies: { where: string; roleNames: () => unknown; document: () => unknown }[] = [];

  for (const stack of stacks) {
    const { stackName, scope } = stack;
    localStacks.push({
      stackName,
      artifactId: stack.artifactId,
      templateFile: stack.templateFile,
      template: stack.template,
      outputs: Object.fromEntries(
        Object.entries(stack.template.Outputs ?? {}).map(([id, o]) => [id, resolveValue(o.Value, scope, `${stackName} output ${id}`)]),
      ),
    });
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      const where = `${stackName}/${logicalId} (${resource.Type})`;
      const prop = (name: string): unknown => resolveValue(resource.Properties?.[name], scope, `${where} ${name}`);
      const base = () => {
        const physical = physicalOf(stack, logicalId, where);
        return { stackName, logicalId, name: physical.name, arn: physical.attribute('Arn') ?? physical.ref };
      };
      switch (resource.Type) {
        case 'AWS::Lambda::Function':
          // Deploy-time helpers (custom resource providers with inline code) never run locally;
          // their functions are only an error if something invokes them.
          try {
            functions.push(lambdaOf(directory, stack, logicalId, resource, base(), prop, where));
          } catch (error) {
            if (!(error instanceof AssemblyError)) throw error;
            unrunnableFunctions.push({ ...base(), reason: error.message });
          }
          break;
        case 'AWS::StepFunctions::StateMachine':
          stateMachines.push({
            ...base(),
            definition: parseDefinition(prop('DefinitionString') ?? prop('Definition'), where),
            metadata: resource.Metadata ?? {},
            roleArn: optionalString(prop('RoleArn')),
          });
          break;
        case 'AWS::IAM::Role': {
          const role = base();
          const entry = { role, statements: [] as Record<string, unknown>[], unknownPolicies: [] as string[] };
          for (const inline of (resource.Properties?.Policies as { PolicyName?: unknown; PolicyDocument?: unknown }[] | undefined) ?? []) {
            policies.push({ where: `${where} inline policy`, roleNames: () => [role.name], document: () => resolveValue(inline.PolicyDocument, scope, `${where} Policies`) });
          }
          for (const managed of (prop('ManagedPolicyArns') as unknown[] | undefined) ?? []) entry.unknownPolicies.push(String(managed));
          roles.set(role.name, entry);
          break;
        }
        case 'AWS::IAM::Policy':
          policies.push({ where, roleNames: () => prop('Roles'), document: () => prop('PolicyDocument') });
          break;
        case 'AWS::Events::Rule': {
          const targets = (prop('Targets') as Record<string, unknown>[] | undefined) ?? [];
          rules.push({
            ...base(),
            eventBusName: typeof prop('EventBusName') === 'string' ? String(prop('EventBusName')) : 'default',
            eventPattern: parseJsonProperty(prop('EventPattern'), `${where} EventPattern`),
            scheduleExpression: optionalString(prop('ScheduleExpression')),
            enabled: prop('State') === undefined || prop('State') === 'ENABLED',
            targets: targets.map((t) => ({
              id: String(t.Id),
              arn: String(t.Arn),
              input: optionalString(t.Input),
              inputPath: optionalString(t.InputPath),
              inputTransformer: t.InputTransformer
                ? {
                    inputPathsMap: (t.InputTransformer as Record<string, unknown>).InputPathsMap as Record<string, string> | undefined,
                    inputTemplate: String((t.InputTransformer as Record<string, unknown>).InputTemplate),
                  }
                : undefined,
              properties: t,
            })),
          });
          break;
        }
        case 'AWS::Scheduler::Schedule': {
          const window = prop('FlexibleTimeWindow') as Record<string, unknown> | undefined;
          const target = (prop('Target') ?? {}) as Record<string, unknown>;
          schedules.push({
            ...base(),
            scheduleExpression: String(prop('ScheduleExpression')),
            timezone: optionalString(prop('ScheduleExpressionTimezone')) ?? 'UTC',
            enabled: prop('State') === undefined || prop('State') === 'ENABLED',
            flexibleWindowMinutes: window?.Mode === 'FLEXIBLE' ? Number(window.MaximumWindowInMinutes) : undefined,
            startDate: optionalString(prop('StartDate')),
            endDate: optionalString(prop('EndDate')),
            description: optionalString(prop('Description')),
            target: { arn: String(target.Arn), input: optionalString(target.Input), properties: target },
          });
          break;
        }
        case 'AWS::SQS::Queue': {
          const redrive = parseJsonProperty(prop('RedrivePolicy'), `${where} RedrivePolicy`);
          const physical = physicalOf(stack, logicalId, where);
          queues.push({
            ...base(),
            url: physical.ref,
            visibilityTimeoutSeconds: Number(prop('VisibilityTimeout') ?? 30),
            deadLetter: redrive
              ? { targetArn: String(redrive.deadLetterTargetArn), maxReceiveCount: Number(redrive.maxReceiveCount) }
              : undefined,
          });
          break;
        }
        case 'AWS::Lambda::EventSourceMapping':
          eventSourceMappings.push({
            stackName,
            logicalId,
            eventSourceArn: String(prop('EventSourceArn')),
            functionName: String(prop('FunctionName')),
            batchSize: Number(prop('BatchSize') ?? 10),
            reportBatchItemFailures: ((prop('FunctionResponseTypes') as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
            enabled: prop('Enabled') !== false,
          });
          break;
        case 'AWS::DynamoDB::Table': {
          const { name, ...rest } = base();
          const properties = Object.fromEntries(
            ['KeySchema', 'AttributeDefinitions', 'GlobalSecondaryIndexes', 'LocalSecondaryIndexes', 'BillingMode', 'ProvisionedThroughput']
              .map((p) => [p, prop(p)])
              .filter(([, v]) => v !== undefined),
          );
          tables.push({ ...rest, name, properties: { ...properties, TableName: name } });
          break;
        }
        case 'AWS::S3::Bucket': {
          const notifications = prop('NotificationConfiguration') as Record<string, Record<string, unknown>> | undefined;
          buckets.push({ ...base(), eventBridgeEnabled: notifications?.EventBridgeConfiguration?.EventBridgeEnabled === true });
          break;
        }
        case 'AWS::SNS::Topic':
          topics.push(base());
          break;
        case 'AWS::SSM::Parameter':
          parameters.set(String(prop('Name')), String(prop('Value')));
          break;
      }
    }
  }

  for (const policy of policies) {
    let names: string[];
    let statements: Record<string, unknown>[];
    try {
      names = ((policy.roleNames() as unknown[] | undefined) ?? []).map(String);
      const document = policy.document() as { Statement?: Record<string, unknown> | Record<string, unknown>[] } | undefined;
      statements = [document?.Statement ?? []].flat();
    } catch (error) {
      // A policy that does not resolve locally is reported with each decision it could change.
      for (const entry of roles.values()) entry.unknownPolicies.push(`${policy.where} (${(error as Error).message})`);
      continue;
    }
    for (const name of names) roles.get(name)?.statements.push(...statements);
  }

  return {
    stage,
    directory,
    environment: stacks[0]!.environment,
    stacks: localStacks,
    functions,
    unrunnableFunctions,
    stateMachines,
    rules,
    schedules,
    queues,
    eventSourceMappings,
    tables,
    buckets,
    topics,
    parameters,
    roles: [...roles.values()].map(({ role, statements, unknownPolicies }) => ({ ...role, statements, unknownPolicies })),
    findFunction: (nameOrArn) => {
      const name = functionNameOf(nameOrArn);
      return functions.find((f) => f.name === name);
    },
    findStateMachine: (nameOrArn) => stateMachines.find((s) => s.arn === nameOrArn || s.name === nameOrArn),
  };
}

function lambdaOf(
  directory: string,
  stack: LoadedStack,
  logicalId: string,
  resource: CfnResource,
  base: { stackName: string; logicalId: string; name: string; arn: string },
  prop: (name: string) => unknown,
  where: string,
): LocalFunction {
  const code = (prop('Code') ?? {}) as Record<string, unknown>;
  const assetPath = resource.Metadata?.['aws:asset:path'];
  const assetDir =
    (typeof code.S3Key === 'string' ? stack.assets.get(code.S3Key) : undefined) ??
    (typeof assetPath === 'string' ? resolve(directory, assetPath) : undefined);
  if (!assetDir) {
    throw new AssemblyError(
      `${where}: its code (${JSON.stringify(code)}) is not an asset of cdk.out, so it cannot run locally. Fix: build it from local code (e.g. NodejsFunction or Code.fromAsset)`,
    );
  }
  const handler = String(prop('Handler') ?? 'index.handler');
  const dot = handler.lastIndexOf('.');
  const modulePath = join(assetDir, handler.slice(0, dot));
  // The Node.js runtime tries these extensions, in this order.
  const handlerFile = ['.js', '.mjs', '.cjs'].map((ext) => modulePath + ext).find((file) => existsSync(file));
  if (!handlerFile) {
    throw new AssemblyError(`${where}: Handler "${handler}" names no file ${modulePath}.{js,mjs,cjs} in its asset ${assetDir}`);
  }
  const variables = ((prop('Environment') as Record<string, unknown> | undefined)?.Variables ?? {}) as Record<string, unknown>;
  return {
    ...base,
    logicalId,
    handlerFile,
    handlerExport: handler.slice(dot + 1),
    runtime: String(prop('Runtime') ?? ''),
    timeoutSeconds: Number(prop('Timeout') ?? 3),
    memoryMb: Number(prop('MemorySize') ?? 128),
    roleArn: optionalString(prop('Role')),
    environment: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
  };
}

function parseDefinition(value: unknown, where: string): Record<string, unknown> {
  const parsed = typeof value === 'string' ? parseJsonProperty(value, `${where} DefinitionString`) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AssemblyError(`${where}: has no DefinitionString or Definition holding an ASL object`);
  }
  return parsed as Record<string, unknown>;
}

function parseJsonProperty(value: unknown, where: string): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return value as Record<string, unknown>;
  try {
    return JSON.parse(value) as Record<string, unknown>;
  } catch (error) {
    throw new AssemblyError(`${where} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
