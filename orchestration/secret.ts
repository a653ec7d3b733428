import { SECRETS_ENV, type SecretLocation } from '../lib/compile/contract';

/** Thrown when a handler reads a secret its task does not declare. */
export class UndeclaredSecretError extends Error {
  constructor(name: string, declared: readonly string[]) {
    super(
      `This task reads secret "${name}", which it does not declare (it declares: ${declared.join(', ') || 'none'}). ` +
        `Fix: add "${name}" to the task's \`secrets\` in pipeline.ts, so that its role may read it`,
    );
    this.name = 'UndeclaredSecretError';
  }
}

/** How long a value read is reused by the same function instance: rotation shows within a minute. */
const CACHE_SECONDS = 60;

/**
 * The value of one of the task's declared secrets (`task({ secrets: ['warehouse-password'] })`),
 * from wherever the stage keeps it: a Secrets Manager secret or an SSM parameter (decrypted). Read
 * with Powertools Parameters, cached for a minute per function instance. Locally the value comes
 * from `secrets.local.json` in the project, served by the local runtime as those services.
 *
 * ```ts
 * import { secret, type TaskEvent } from 'sluice';
 * export const handler = async (event: TaskEvent) => {
 *   const password = await secret('warehouse-password');
 * };
 * ```
 *
 * @throws UndeclaredSecretError when the task does not declare `name`
 */
export async function secret(name: string): Promise<string> {
  const locations = secretLocations();
  const location = locations[name];
  if (!location) throw new UndeclaredSecretError(name, Object.keys(locations));
  // Loaded on first use: a pipeline definition importing this module pulls in no SDK client.
  if (location.kind === 'secretsManager') {
    const { getSecret } = await import('@aws-lambda-powertools/parameters/secrets');
    const value = await getSecret(location.id, { maxAge: CACHE_SECONDS });
    if (typeof value !== 'string') throw new Error(`Secret "${name}" (${location.id}) holds binary data; sluice reads text secrets`);
    return value;
  }
  const { getParameter } = await import('@aws-lambda-powertools/parameters/ssm');
  const value = await getParameter(location.id, { decrypt: true, maxAge: CACHE_SECONDS });
  if (value === undefined) throw new Error(`Secret "${name}": SSM parameter ${location.id} has no value`);
  return value;
}

function secretLocations(): Readonly<Record<string, SecretLocation>> {
  const text = process.env[SECRETS_ENV];
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, SecretLocation>;
  } catch {
    throw new Error(`${SECRETS_ENV} is not JSON: was the function deployed by sluice?`);
  }
}
