import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { compilePipeline, pipeline, PipelineValidationError, task } from '../../lib';
import { loadPipelines, type LoadedPipeline } from '../../lib/loader';
import { SluiceStage } from '../../lib/stacks/sluice-stage';
import { type StageConfig, validateStages } from '../../lib/stacks/stage-config';

const fixtures = fileURLToPath(new URL('../local/fixtures/secrets', import.meta.url));
const KEY = 'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const dev: StageConfig = {
  name: 'dev',
  account: '111111111111',
  region: 'eu-west-1',
  buckets: {},
  secrets: { 'api-token': { kind: 'ssmParameter', parameterName: '/acme/dev/api-token', encryptionKeyArn: KEY } },
};

type Statement = { Action: string | string[]; Resource: unknown };

function taskRoleStatements(template: Template): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('secrets per stage', () => {
  let pipelines: readonly LoadedPipeline[];
  let stage: SluiceStage;

  beforeAll(async () => {
    pipelines = (await loadPipelines(fixtures)).filter((p) => ['warehouse', 'tokens'].includes(p.compiled.name));
    stage = new SluiceStage(new App(), 'dev', { config: dev, pipelines });
  });

  it('lets a task read exactly its secret, by default from sluice/<stage>/<name> in Secrets Manager, and names it, not its value', () => {
    const template = Template.fromStack(stage.pipelines.warehouse!);
    const reads = taskRoleStatements(template).filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:') || a.startsWith('ssm:GetParameter')));
    expect(reads).toHaveLength(1);
    expect(reads[0]!.Action).toStrictEqual(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']);
    expect(JSON.stringify(reads[0]!.Resource)).toContain(':secretsmanager:eu-west-1:111111111111:secret:sluice/dev/warehouse-password-??????');
    const [connect] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: 'sluice warehouse: task connect' } }));
    expect(JSON.parse(connect!.Properties.Environment.Variables.SLUICE_SECRETS)).toStrictEqual({
      'warehouse-password': { kind: 'secretsManager', id: 'sluice/dev/warehouse-password' },
    });
  });

  it('reads a secret the stage maps to an SSM parameter, with its key, and nothing else', () => {
    const template = Template.fromStack(stage.pipelines.tokens!);
    const statements = taskRoleStatements(template);
    expect(statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')))).toStrictEqual([]);
    const parameter = statements.filter((s) => [s.Action].flat().includes('ssm:GetParameter'));
    expect(parameter).toHaveLength(1);
    expect(JSON.stringify(parameter[0]!.Resource)).toContain(':ssm:eu-west-1:111111111111:parameter/acme/dev/api-token');
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'kms:Decrypt', Resource: KEY }));
  });

  it('fails synth for a stage mapping a secret no task declares (a typo), naming it and the fix', () => {
    const typo: StageConfig = { ...dev, secrets: { 'warehouse-pasword': { kind: 'secretsManager', secretName: 'prod/warehouse' } } };
    expect(() => new SluiceStage(new App(), 'typo', { config: typo, pipelines })).toThrow(
      'stage "dev" maps secret "warehouse-pasword", which no task declares (declared: api-token, warehouse-password). ' +
        'Fix: correct the name in the secrets of stage "dev" in sluice.config.ts, or add it to a task\'s `secrets`',
    );
  });

  it('refuses secret names and locations AWS or the local file could not hold', () => {
    expect(() => validateStages([{ ...dev, secrets: { 'a b': { kind: 'ssmParameter', parameterName: 'no-slash' } } }])).toThrow(
      [
        'Invalid stage configuration (sluice.config.ts):',
        '  - stage "dev": secret "a b": use 1 to 64 letters, digits, ".", "-" and "_"',
        '  - stage "dev": secret "a b": "no-slash" is not an SSM parameter name starting with "/"',
      ].join('\n'),
    );
    const declared = () => compilePipeline(pipeline({ name: 'p', tasks: { t: task({ handler: './t.ts', secrets: ['ok', 'ok', 'bad name'] }) } }));
    expect(declared).toThrow(PipelineValidationError);
    expect(declared).toThrow(/declares secret "ok" twice/);
    expect(declared).toThrow(/invalid secret name "bad name"/);
  });
});
