import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../../local/cli/errors';
import {
  MissingCredentialsError,
  resolveDeployedStage,
  StageAccessDeniedError,
  StageNotConfiguredError,
  StageNotDeployedError,
  stageError,
} from '../../../local/operations/deployed-stage';
import { projectDir } from '../../cli/sluice';

const prod = { name: 'prod', region: 'eu-west-1' };
const named = (name: string, message: string) => Object.assign(new Error(message), { name });

describe('--stage: which stage, and the errors that say why it cannot be used', () => {
  it("finds a configured stage's region in sluice.config.ts", async () => {
    await expect(resolveDeployedStage(projectDir, 'prod')).resolves.toStrictEqual(prod);
  });

  it('fails for a stage that is not configured, listing the configured ones, exit 2', async () => {
    const error = await resolveDeployedStage(projectDir, 'staging').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StageNotConfiguredError);
    expect((error as Error).message).toBe('stage "staging" is not configured in sluice.config.ts (stages: local, dev, test, prod): add it there, or choose one of those');
    expect(exitCodeOf(error)).toBe(2);
  });

  it('fails for a stage whose parameters are missing (SSM ParameterNotFound): not deployed in its region, exit 2', () => {
    const error = stageError(prod, named('ParameterNotFound', ''));
    expect(error).toBeInstanceOf(StageNotDeployedError);
    expect((error as Error).message).toBe("stage prod is not deployed in eu-west-1: run npx cdk deploy 'prod/*'");
    expect(exitCodeOf(error)).toBe(2);
  });

  it('fails without credentials with what to set, exit 2', () => {
    const error = stageError(prod, named('CredentialsProviderError', 'Could not load credentials from any providers'));
    expect(error).toBeInstanceOf(MissingCredentialsError);
    expect((error as Error).message).toMatch(/^no AWS credentials for stage prod \(eu-west-1\): .*set AWS_PROFILE/);
    expect((error as Error).message).not.toContain('\n');
    expect(exitCodeOf(error)).toBe(2);
  });

  it('fails on a refused call naming the permission AWS said, exit 2', () => {
    const error = stageError(prod, named('AccessDeniedException', 'User: arn:aws:iam::333333333333:user/ana is not authorized to perform: ssm:GetParameter'));
    expect(error).toBeInstanceOf(StageAccessDeniedError);
    expect((error as Error).message).toContain('is not authorized to perform: ssm:GetParameter');
    expect(exitCodeOf(error)).toBe(2);
  });

  it('fails when AWS cannot be reached, with the network error, exit 1', () => {
    const error = stageError(prod, Object.assign(named('Error', 'getaddrinfo ENOTFOUND ssm.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }));
    expect((error as Error).message).toBe(
      'cannot reach AWS for stage prod (eu-west-1): getaddrinfo ENOTFOUND ssm.eu-west-1.amazonaws.com; check the network (or the AWS_ENDPOINT_URL_* variables set)',
    );
    expect(exitCodeOf(error)).toBe(1);
  });

  it('keeps any other error as it is', () => {
    const other = named('ThrottlingException', 'Rate exceeded');
    expect(stageError(prod, other)).toBe(other);
  });
});
