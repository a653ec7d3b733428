import { loadProjectStages } from '../../lib/loader/project-config';

/**
 * Finding a deployed stage for `--stage NAME`, and the errors that say why it cannot be used:
 * one line each, naming the fix (the CLI exits 2 on them).
 */

/** A stage `--stage` names: its name and the region its stacks are deployed in. */
export interface DeployedStage {
  readonly name: string;
  readonly region: string;
}

/** `--stage` names a stage that `sluice.config.ts` does not declare. */
export class StageNotConfiguredError extends Error {
  constructor(name: string, known: readonly string[], file: string) {
    super(`stage "${name}" is not configured in ${file} (stages: ${known.join(', ') || 'none'}): add it there, or choose one of those`);
    this.name = 'StageNotConfiguredError';
  }
}

/** The stage is configured, but what its stacks publish is not in its region (SSM `ParameterNotFound`). */
export class StageNotDeployedError extends Error {
  constructor(stage: DeployedStage) {
    super(`stage ${stage.name} is not deployed in ${stage.region}: run npx cdk deploy '${stage.name}/*'`);
    this.name = 'StageNotDeployedError';
  }
}

/** The AWS SDK found no credentials in its default chain. */
export class MissingCredentialsError extends Error {
  constructor(stage: DeployedStage) {
    super(
      `no AWS credentials for stage ${stage.name} (${stage.region}): the default chain found none; set AWS_PROFILE (then aws sso login), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
    );
    this.name = 'MissingCredentialsError';
  }
}

/** AWS refused a call the command needs: the operator's identity lacks a permission. */
export class StageAccessDeniedError extends Error {
  constructor(stage: DeployedStage, message: string) {
    super(`AWS refused a call on stage ${stage.name} (${stage.region}): ${message}. The README lists the IAM permissions --stage needs`);
    this.name = 'StageAccessDeniedError';
  }
}

/** The SDK could not reach AWS's endpoint (no network, a proxy, a wrong `AWS_ENDPOINT_URL_*`). */
export class StageUnreachableError extends Error {
  constructor(stage: DeployedStage, message: string) {
    super(`cannot reach AWS for stage ${stage.name} (${stage.region}): ${message}; check the network (or the AWS_ENDPOINT_URL_* variables set)`);
    this.name = 'StageUnreachableError';
  }
}

/**
 * The stage `name` of the project's `sluice.config.ts`.
 *
 * @throws StageNotConfiguredError
 */
export async function resolveDeployedStage(projectDir: string, name: string): Promise<DeployedStage> {
  const stages = await loadProjectStages(projectDir);
  const stage = stages.find((s) => s.name === name);
  if (!stage) throw new StageNotConfiguredError(name, stages.map((s) => s.name), 'sluice.config.ts');
  return { name: stage.name, region: stage.region };
}

/**
 * An AWS SDK error as the error a user can act on, where there is one: a missing parameter means
 * the stage is not deployed, no credentials and access denied say what to set up. Others are
 * returned as they are.
 */
export function stageError(stage: DeployedStage, error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (error.name === 'ParameterNotFound') return new StageNotDeployedError(stage);
  if (error.name === 'CredentialsProviderError' || /could not load credentials/i.test(error.message)) return new MissingCredentialsError(stage);
  if (error.name === 'AccessDeniedException' || error.name === 'AccessDenied' || error.name === 'UnrecognizedClientException') {
    return new StageAccessDeniedError(stage, error.message);
  }
  const code = (error as Error & { code?: string }).code;
  if (code === 'ENOTFOUND' || code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'ETIMEDOUT' || error.name === 'TimeoutError') {
    return new StageUnreachableError(stage, error.message);
  }
  return error;
}
