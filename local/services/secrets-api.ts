import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { SecretLocation } from '../../lib/compile/contract';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveAwsJson } from './private/aws-json';

/** The local stand-ins of Secrets Manager and SSM Parameter Store, on loopback. */
export interface LocalSecretsApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_SECRETS_MANAGER` and `AWS_ENDPOINT_URL_SSM`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Properties of {@link startSecretsApi}. */
export interface SecretsApiProps {
  /** `secrets.local.json`: `{ "<logical name>": "<value>" }`, read at every call (edits apply at once). */
  readonly file: string;
  /** Where the stage's tasks read each logical secret (their `SLUICE_SECRETS`). */
  readonly locations: ReadonlyMap<string, SecretLocation>;
  readonly environment: { readonly region: string; readonly account: string };
  /**
   * The SSM parameters the stage's stacks publish (names and ARNs under `/sluice/<stage>/`), served
   * as `String` parameters to `GetParameter`, `GetParameters` and `GetParametersByPath`, as
   * CloudFormation would have created them: what `--stage` reads.
   *
   * @default - none
   */
  readonly published?: ReadonlyMap<string, string>;
  /** Decides each call against its caller's role. @default - every call is allowed */
  readonly authorize?: RequestAuthorizer;
  readonly port?: number;
}

/**
 * Serves Secrets Manager `GetSecretValue` and SSM `GetParameter` (AWS JSON 1.1, as the SDK clients
 * Powertools Parameters uses speak them) from `secrets.local.json`, and the stage's published
 * parameters (`GetParameter`, `GetParameters`, `GetParametersByPath`), so that a task's `secret()`
 * call, unchanged, reads its local value. Each call is decided against the caller's role, on the
 * ARN the deployed secret would have: a task reads exactly the secrets it declares. A value
 * missing from the file fails as on AWS (`ResourceNotFoundException`, `ParameterNotFound`),
 * with a message naming the file and the missing name.
 */
export function startSecretsApi(props: SecretsApiProps): Promise<LocalSecretsApi> {
  const { region, account } = props.environment;
  const logicalOf = (location: SecretLocation) => [...props.locations].find(([, l]) => l.kind === location.kind && l.id === location.id)?.[0];
  const missing = (logical: string | undefined, id: string) =>
    logical
      ? `no local value for secret "${logical}" (${id}): add "${logical}": "<value>" to ${props.file} (git-ignored: never commit it)`
      : `no task of the local stage declares a secret read as ${id}`;
  return serveAwsJson({
    version: '1.1',
    port: props.port ?? 0,
    handle: ({ operation, input, accessKeyId }) => {
      const fail = (type: string, message: string) => ({ status: 400, errorType: type, message });
      if (operation === 'GetSecretValue') {
        const requested = String(input?.SecretId ?? '');
        // A name, or the ARN of one: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>`.
        const name = requested.startsWith('arn:') ? requested.split(':secret:')[1]!.replace(/-[A-Za-z0-9]{6}$/, '') : requested;
        const arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${suffixOf(name)}`;
        const denial = props.authorize?.({ accessKeyId, action: 'secretsmanager:GetSecretValue', resource: arn });
        if (denial) return { status: 400, errorType: 'AccessDeniedException', message: denial };
        const logical = logicalOf({ kind: 'secretsManager', id: name });
        const value = logical === undefined ? undefined : valuesOf(props.file)[logical];
        if (value === undefined) return fail('ResourceNotFoundException', `Secrets Manager can't find the specified secret: ${missing(logical, name)}`);
        return { output: { ARN: arn, Name: name, SecretString: value, VersionId: randomUUID(), VersionStages: ['AWSCURRENT'], CreatedDate: 0 } };
      }
      const parameterArn = (name: string) => `arn:aws:ssm:${region}:${account}:parameter/${name.replace(/^\//, '')}`;
      const publishedParameter = (name: string) => {
        const value = props.published?.get(name);
        return value === undefined ? undefined : { Name: name, Type: 'String', Value: value, Version: 1, ARN: parameterArn(name), DataType: 'text' };
      };
      if (operation === 'GetParameters') {
        const names = Array.isArray(input?.Names) ? input.Names.map(String) : [];
        for (const name of names) {
          const denial = props.authorize?.({ accessKeyId, action: 'ssm:GetParameters', resource: parameterArn(name) });
          if (denial) return { status: 400, errorType: 'AccessDeniedException', message: denial };
        }
        const found = names.map(publishedParameter).filter((p) => p !== undefined);
        return { output: { Parameters: found, InvalidParameters: names.filter((n) => !props.published?.has(n)) } };
      }
      if (operation === 'GetParametersByPath') {
        const path = String(input?.Path ?? '');
        const denial = props.authorize?.({ accessKeyId, action: 'ssm:GetParametersByPath', resource: parameterArn(path.replace(/\/$/, '')) });
        if (denial) return { status: 400, errorType: 'AccessDeniedException', message: denial };
        const prefix = path.endsWith('/') ? path : `${path}/`;
        const names = [...(props.published?.keys() ?? [])].filter((n) => n.startsWith(prefix) && (input?.Recursive === true || !n.slice(prefix.length).includes('/')));
        return { output: { Parameters: names.sort().map(publishedParameter) } };
      }
      if (operation === 'GetParameter') {
        const name = String(input?.Name ?? '');
        const arn = parameterArn(name);
        const denial = props.authorize?.({ accessKeyId, action: 'ssm:GetParameter', resource: arn });
        if (denial) return { status: 400, errorType: 'AccessDeniedException', message: denial };
        const published = publishedParameter(name);
        if (published) return { output: { Parameter: published } };
        const logical = logicalOf({ kind: 'ssmParameter', id: name });
        const value = logical === undefined ? undefined : valuesOf(props.file)[logical];
        if (value === undefined) return fail('ParameterNotFound', `Parameter ${name} not found: ${missing(logical, name)}`);
        return { output: { Parameter: { Name: name, Type: 'SecureString', Value: value, Version: 1, ARN: arn, DataType: 'text' } } };
      }
      return fail('UnknownOperationException', `The local secrets API serves Secrets Manager GetSecretValue and SSM GetParameter(s) and GetParametersByPath; got "${operation}"`);
    },
  });
}

/** The local values, by logical name; a file that is not a JSON object of strings is refused with the fix. */
function valuesOf(file: string): Readonly<Record<string, string>> {
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not valid JSON (${(error as Error).message}): write { "<secret name>": "<value>" }`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new Error(`${file} must be one JSON object of secret name to text value: { "<secret name>": "<value>" }`);
  }
  return parsed as Record<string, string>;
}

/** The six characters Secrets Manager appends to a secret's ARN: stable per name here. */
function suffixOf(name: string): string {
  return createHash('sha256').update(name).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 6);
}
