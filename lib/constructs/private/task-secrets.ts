import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import type { TaskSecret } from '../pipeline-wiring';
import type { SecretConfig } from '../../stacks/stage-config';

/**
 * References to the secrets a pipeline's tasks read, where the stage keeps them: nothing is
 * created, and no value is read at synth. A Secrets Manager name is matched with its random
 * suffix (`-??????`) in the grants, as Secrets Manager appends one to every secret's ARN.
 */
export function taskSecrets(scope: Construct, secrets: ReadonlyMap<string, SecretConfig>): Record<string, TaskSecret> {
  const resolved: Record<string, TaskSecret> = {};
  for (const [name, config] of secrets) {
    if (config.kind === 'secretsManager') {
      resolved[name] = { kind: 'secretsManager', id: config.secretName, secret: secretsmanager.Secret.fromSecretNameV2(scope, `Secret-${name}`, config.secretName) };
    } else {
      const parameter = ssm.StringParameter.fromSecureStringParameterAttributes(scope, `Secret-${name}`, {
        parameterName: config.parameterName,
        ...(config.encryptionKeyArn && { encryptionKey: kms.Key.fromKeyArn(scope, `Secret-${name}-Key`, config.encryptionKeyArn) }),
      });
      resolved[name] = { kind: 'ssmParameter', id: config.parameterName, parameter };
    }
  }
  return resolved;
}
