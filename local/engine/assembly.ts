import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { IntrinsicError, type IntrinsicScope, resolveValue } from './private/intrinsics';
import { type Environment, nameProperty, type PhysicalResource, physicalResource } from './private/physical';

/** Thrown when `cdk.out` is missing, malformed or lacks what is asked of it. */
export class AssemblyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AssemblyError';
  }
}

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

interface ManifestArtifact {
  readonly type: string;
  readonly displayName?: string;
  readonly environment?: string;
  readonly properties?: Record<string, unknown>;
}

interface Manifest {
  readonly artifacts?: Record<string, ManifestArtifact>;
}

const DEFAULT_ENVIRONMENT: Environment = { account: '000000000000', region: 'us-east-1' };

/**
 * Loads one stage of a cloud assembly (`cdk.out`): the nested assembly `assembly-<stage>` (or the
 * one whose display name is `stage`), its stack templates with every modelled property resolved.
 */
export function loadStage(assemblyDir: string, stage: string): LocalStage {
  const root = resolve(assemblyDir);
  const manifest = readJson<Manifest>(join(root, 'manifest.json'), `the cloud assembly ${root}`);
  const nested = Object.entries(manifest.artifacts ?? {}).find(
    ([id, a]) => a.type === 'cdk:cloud-assembly' && (stageName(a) === stage || id === `assembly-${stage}`),
  );
  if (!nested) {
    const known = Object.values(manifest.artifacts ?? {})
      .filter((a) => a.type === 'cdk:cloud-assembly')
      .map(stageName);
    throw new AssemblyError(
      `${root} holds no stage "${stage}" (it has: ${known.join(', ') || 'none'}). Fix: synthesize it, e.g. SLUICE_STAGES=${stage} npx cdk synth`,
    );
  }
  const directory = join(root, String(nested[1].properties?.directoryName ?? `assembly-${stage}`));
  return new StageLoader(stage, directory).load();
}

function stageName(artifact: ManifestArtifact): string | undefined {
  const name = artifact.properties?.displayName ?? artifact.displayName;
  return typeof name === 'string' ? name : undefined;
}

function readJson<T>(file: string, what: string): T {
  if (!existsSync(file)) throw new AssemblyError(`${what} has no ${file}. Fix: run cdk synth first`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new AssemblyError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

interface StackEntry {
  readonly artifactId: string;
  readonly stackName: string;
  readonly templateFile: string;
  readonly template: CfnTemplate;
  readonly environment: Environment;
  /** Asset object key (`<hash>.zip`) → absolute asset directory. */
  readonly assets: ReadonlyMap<string, string>;
  readonly scope: IntrinsicScope;
  readonly physical: Map<string, PhysicalResource>;
  readonly resolving: Set<string>;
}

class StageLoader {
  private readonly stacks: StackEntry[] = [];
  private readonly exports = new Map<string, { stack: StackEntry; output: string }>();

  constructor(
    private readonly stage: string,
    private readonly directory: string,
  ) {}

  load(): LocalStage {
    const manifest = readJson<Manifest>(join(this.directory, 'manifest.json'), `stage "${this.stage}"`);
    const artifacts = Object.entries(manifest.artifacts ?? {});
    for (const [artifactId, artifact] of artifacts) {
      if (artifact.type !== 'aws:cloudformation:stack') continue;
      const props = artifact.properties ?? {};
      const templateFile = join(this.directory, String(props.templateFile));
      const assetManifests = artifacts
        .filter(([, a]) => a.type === 'cdk:asset-manifest')
        .map(([, a]) => join(this.directory, String(a.properties?.file)))
        .filter((file) => file.endsWith('.assets.json') && file.includes(artifactId));
      this.addStack(artifactId, String(props.stackName ?? artifactId), templateFile, parseEnvironment(artifact.environment), assetManifests);
    }
    if (this.stacks.length === 0) throw new AssemblyError(`stage "${this.stage}" in ${this.directory} has no stacks`);
    for (const stack of this.stacks) {
      for (const [outputId, output] of Object.entries(stack.template.Outputs ?? {})) {
        if (output.Export === undefined) continue;
        const name = resolveValue(output.Export.Name, stack.scope, `${stack.stackName} output ${outputId} Export.Name`);
        this.exports.set(String(name), { stack, output: outputId });
      }
    }
    return this.model();
  }

  private addStack(artifactId: string, stackName: string, templateFile: string, environment: Environment, assetManifests: string[]): void {
    const template = readJson<CfnTemplate>(templateFile, `stack ${stackName}`);
    const assets = new Map<string, string>();
    for (const file of assetManifests) {
      const manifest = readJson<{ files?: Record<string, { source: { path?: string }; destinations?: Record<string, { objectKey?: string }> }> }>(file, `stack ${stackName}`);
      for (const asset of Object.values(manifest.files ?? {})) {
        if (!asset.source.path) continue;
        for (const destination of Object.values(asset.destinations ?? {})) {
          if (destination.objectKey) assets.set(destination.objectKey, resolve(dirname(file), asset.source.path));
        }
      }
    }
    const entry: StackEntry = {
      artifactId,
      stackName,
      templateFile,
      template,
      environment,
      assets,
      physical: new Map(),
      resolving: new Set(),
      scope: {
        stackName,
        region: environment.region,
        account: environment.account,
        mappings: template.Mappings ?? {},
        ref: (logicalId, where) => this.ref(entry, logicalId, where),
        getAtt: (logicalId, attribute, where) => this.getAtt(entry, logicalId, attribute, where),
        importValue: (name, where) => this.importValue(name, where),
      },
    };
    this.stacks.push(entry);
  }

  private resource(stack: StackEntry, logicalId: string, intrinsic: string, where: string): CfnResource {
    const resource = stack.template.Resources?.[logicalId];
    if (!resource) throw new IntrinsicError(where, intrinsic, `stack ${stack.stackName} has no resource "${logicalId}"`);
    return resource;
  }

  private physicalOf(stack: StackEntry, logicalId: string, where: string): PhysicalResource {
    const cached = stack.physical.get(logicalId);
    if (cached) return cached;
    const resource = this.resource(stack, logicalId, 'Ref', where);
    if (stack.resolving.has(logicalId)) {
      throw new IntrinsicError(where, 'Ref', `the name of ${logicalId} depends on itself`);
    }
    stack.resolving.add(logicalId);
    try {
      const property = nameProperty(resource.Type);
      const props = resource.Properties ?? {};
      const name = property && props[property] !== undefined ? resolveValue(props[property], stack.scope, `${stack.stackName}/${logicalId}.${property}`) : undefined;
      const group = resource.Type === 'AWS::Scheduler::Schedule' ? { GroupName: resolveValue(props.GroupName, stack.scope, `${stack.stackName}/${logicalId}.GroupName`) } : {};
      const bus = resource.Type === 'AWS::Events::Rule' ? { EventBusName: resolveValue(props.EventBusName, stack.scope, `${stack.stackName}/${logicalId}.EventBusName`) } : {};
      const physical = physicalResource(resource.Type, logicalId, stack.stackName, name, { ...group, ...bus }, stack.environment);
      stack.physical.set(logicalId, physical);
      return physical;
    } finally {
      stack.resolving.delete(logicalId);
    }
  }

  private ref(stack: StackEntry, logicalId: string, where: string): unknown {
    const parameter = stack.template.Parameters?.[logicalId];
    if (parameter?.Type?.startsWith('AWS::SSM::Parameter::Value<')) return this.ssmParameter(String(parameter.Default), where);
    if (parameter) {
      if (parameter.Default === undefined) throw new IntrinsicError(where, 'Ref', `template parameter ${logicalId} has no Default`);
      return parameter.Default;
    }
    return this.physicalOf(stack, logicalId, where).ref;
  }

  private getAtt(stack: StackEntry, logicalId: string, attribute: string, where: string): unknown {
    const resource = this.resource(stack, logicalId, 'Fn::GetAtt', where);
    const value = this.physicalOf(stack, logicalId, where).attribute(attribute);
    if (value === undefined) {
      throw new IntrinsicError(where, 'Fn::GetAtt', `attribute ${attribute} of ${logicalId} (${resource.Type}) is not known locally`);
    }
    return value;
  }

  /**
   * The value of the SSM parameter `name` (an `AWS::SSM::Parameter::Value<…>` template parameter
   * names it in its Default), as a stack of the stage publishes it: CloudFormation reads it at
   * deploy time, after the stack publishing it was deployed.
   */
  private ssmParameter(name: string, where: string): unknown {
    const published: string[] = [];
    for (const stack of this.stacks) {
      for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
        if (resource.Type !== 'AWS::SSM::Parameter') continue;
        const at = `${stack.stackName}/${logicalId}`;
        const parameterName = String(resolveValue(resource.Properties?.Name, stack.scope, `${at}.Name`));
        if (parameterName === name) return resolveValue(resource.Properties?.Value, stack.scope, `${at}.Value`);
        published.push(parameterName);
      }
    }
    throw new IntrinsicError(where, 'Ref', `no stack of stage "${this.stage}" publishes the SSM parameter "${name}" (published: ${published.join(', ') || 'none'})`);
  }

  private importValue(name: string, where: string): unknown {
    const found = this.exports.get(name);
    if (!found) {
      throw new IntrinsicError(where, 'Fn::ImportValue', `no stack of stage "${this.stage}" exports "${name}" (exports: ${[...this.exports.keys()].join(', ') || 'none'})`);
    }
    const output = found.stack.template.Outputs?.[found.output];
    return resolveValue(output?.Value, found.stack.scope, `${found.stack.stackName} output ${found.output}`);
  }

  private model(): LocalStage {
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
    const stacks: LocalStack[] = [];
    const roles = new Map<string, { role: Omit<LocalRole, 'statements' | 'unknownPolicies'>; statements: Record<string, unknown>[]; unknownPolicies: string[] }>();
    const policies: { where: string; roleNames: () => unknown; document: () => unknown }[] = [];

    for (const stack of this.stacks) {
      const { stackName, scope } = stack;
      stacks.push({
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
          const physical = this.physicalOf(stack, logicalId, where);
          return { stackName, logicalId, name: physical.name, arn: physical.attribute('Arn') ?? physical.ref };
        };
        switch (resource.Type) {
          case 'AWS::Lambda::Function':
            // Deploy-time helpers (custom resource providers with inline code) never run locally;
            // their functions are only an error if something invokes them.
            try {
              functions.push(this.lambda(stack, logicalId, resource, base(), prop, where));
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
            const physical = this.physicalOf(stack, logicalId, where);
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
      stage: this.stage,
      directory: this.directory,
      environment: this.stacks[0].environment,
      stacks,
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

  private lambda(
    stack: StackEntry,
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
      (typeof assetPath === 'string' ? resolve(this.directory, assetPath) : undefined);
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
}

function parseEnvironment(text: string | undefined): Environment {
  const match = /^aws:\/\/(\d{12})\/([a-z0-9-]+)$/.exec(text ?? '');
  return match ? { account: match[1], region: match[2] } : DEFAULT_ENVIRONMENT;
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

/** `arn:aws:lambda:r:a:function:name[:qualifier]`, `a:function:name` or `name` → `name`. */
export function functionNameOf(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  return match ? match[1] : nameOrArn;
}
