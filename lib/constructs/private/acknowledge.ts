import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

/** A family of policy statements whose wildcards are intended, and why. */
export interface WildcardAcknowledgement {
  /** Statements granting any of these actions are concerned. */
  readonly actions: readonly string[];
  /** Why the wildcard is needed: shown in the validation report. */
  readonly reason: string;
}

/**
 * Acknowledges the cdk-nag `AwsSolutions-IAM5` findings of chosen statements in the policies
 * under `scope`. A finding's id embeds the resource as rendered in the template (for a
 * cross-stack reference, its export name), which is only known once references are resolved;
 * construct validations run after that and before the policy validation plugins, so the
 * acknowledgements are recorded there.
 */
export function acknowledgeWildcards(scope: IConstruct, acknowledgements: readonly WildcardAcknowledgement[]): void {
  scope.node.addValidation({
    validate: () => {
      for (const node of scope.node.findAll()) {
        if (!(node instanceof iam.CfnPolicy) || !CfnResource.isCfnResource(node)) continue;
        const document = Stack.of(node).resolve(node.policyDocument) as { Statement?: Statement[] };
        for (const statement of document.Statement ?? []) {
          const actions = list(statement.Action);
          const match = acknowledgements.find((a) => a.actions.some((action) => actions.includes(action)));
          if (!match || statement.Effect !== 'Allow') continue;
          const findings = [
            ...actions.filter((a) => a.includes('*')).map((a) => `Action::${a}`),
            ...list(statement.Resource)
              .map(flatten)
              .filter((r) => r.includes('*'))
              .map((r) => `Resource::${r}`),
          ];
          for (const finding of findings) {
            Validations.of(node).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason: match.reason });
          }
        }
      }
      return [];
    },
  });
}

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** Renders a resource as cdk-nag names it in finding ids. */
function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/}/g, '>');
  const object = node as Record<string, unknown>;
  if (object['Fn::Join']) {
    const [delimiter, items] = object['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if (object['Fn::Sub']) return flatten(object['Fn::Sub']);
  if (object['Fn::GetAtt']) {
    const [resource, attribute] = object['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if (object['Fn::ImportValue']) return flatten(object['Fn::ImportValue']);
  if (object.Ref) return `<${flatten(object.Ref)}>`;
  return JSON.stringify(node);
}
