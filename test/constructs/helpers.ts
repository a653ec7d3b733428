import { App, Stack, type CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import type { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { fileURLToPath } from 'node:url';
import { loadPipelines, type LoadedPipeline } from '../../lib/loader';

/** The fixture pipelines of the construct and stack tests. */
export const FIXTURES_DIR = fileURLToPath(new URL('../fixtures/pipelines', import.meta.url));

export async function loadFixture(name: string): Promise<LoadedPipeline> {
  const found = (await loadPipelines(FIXTURES_DIR)).find((p) => p.compiled.name === name);
  if (!found) throw new Error(`no fixture pipeline "${name}" in ${FIXTURES_DIR}`);
  return found;
}

/** A stack in a fixed environment, with a partition-shaped table. */
export function testStack(): { stack: Stack; table: dynamodb.Table } {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'eu-west-1' } });
  const table = new dynamodb.Table(stack, 'Table', {
    partitionKey: { name: 'pipeline', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'partition', type: dynamodb.AttributeType.STRING },
  });
  return { stack, table };
}

/** An ASL state, loosely typed for assertions. */
export type AslState = Record<string, unknown> & { Type: string; Branches?: Asl[] };
export interface Asl {
  StartAt: string;
  States: Record<string, AslState>;
}

/**
 * The state machine definitions of a template, parsed. References (function ARNs, table names)
 * are rendered as placeholders of the right shape so the result is valid JSON and valid ASL.
 */
export function definitions(template: Template): Asl[] {
  return Object.values(template.findResources('AWS::StepFunctions::StateMachine')).map((resource) => {
    const body = resource.Properties.DefinitionString as string | { 'Fn::Join': [string, unknown[]] };
    if (typeof body === 'string') return JSON.parse(body) as Asl;
    const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : placeholder(part))).join('');
    return JSON.parse(text) as Asl;
  });
}

function placeholder(reference: unknown): string {
  const ref = reference as Record<string, unknown>;
  if (ref.Ref === 'AWS::Partition') return 'aws';
  if (ref['Fn::GetAtt']) return 'arn:aws:lambda:eu-west-1:123456789012:function:placeholder';
  return 'placeholder';
}

/** Every state of a definition, nested branches included, by name. */
export function allStates(asl: Asl): Record<string, AslState> {
  const out: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(asl.States)) {
    out[name] = state;
    for (const branch of state.Branches ?? []) Object.assign(out, allStates(branch));
  }
  return out;
}

/** The logical id of a construct's CloudFormation resource in its stack. */
export function logicalIdOf(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}
