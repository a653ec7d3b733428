/**
 * Reads a stage of a cloud assembly (`cdk.out`): its manifests, templates and asset manifests,
 * resolving the intrinsics of every property the local runtime reads (Ref, Fn::GetAtt, SSM
 * parameters, imports between the stage's stacks); stage-model.ts models the resources.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { AssemblyError } from './assembly-error';
import type { CfnResource, CfnTemplate, LocalStage } from './local-stage';
import { IntrinsicError, resolveValue } from './private/intrinsics';
import { type Environment, nameProperty, type PhysicalResource, physicalResource } from './private/physical';
import { type LoadedStack, modelStage } from './stage-model';

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

interface StackEntry extends LoadedStack {
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
    return modelStage(this.stage, this.directory, this.stacks, (stack, logicalId, where) => this.physicalOf(stack, logicalId, where));
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
}

function parseEnvironment(text: string | undefined): Environment {
  const match = /^aws:\/\/(\d{12})\/([a-z0-9-]+)$/.exec(text ?? '');
  return match ? { account: match[1], region: match[2] } : DEFAULT_ENVIRONMENT;
}

