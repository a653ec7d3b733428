import { createHash } from 'node:crypto';
import type { LocalRole, LocalStage } from '../engine/local-stage';
import { evaluatePolicies, type PolicyStatement } from './policy-evaluator';

/** One AWS call to authorize: who makes it (an access key id, as signed), what, on what. */
export interface AuthorizationCheck {
  /** The access key id the request was signed with; keys of no role are the developer's own. */
  readonly accessKeyId: string | undefined;
  /** `service:Action`, e.g. `dynamodb:Query`. */
  readonly action: string;
  /** The resource's ARN. */
  readonly resource: string;
}

/**
 * Decides a call: `undefined` when allowed, else AWS's AccessDenied message. The local services
 * take one of these; the runtime gives them {@link LocalAuthorizer.authorize}.
 */
export type RequestAuthorizer = (check: AuthorizationCheck) => string | undefined;

/** Thrown for a call the caller's role may not make: AWS's `AccessDeniedException`. */
export class AccessDeniedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AccessDeniedException';
  }
}

/** Most decisions {@link LocalAuthorizer} keeps; it starts afresh beyond. */
const MAX_DECISIONS = 10_000;

/** The prefix AWS gives temporary (role session) access key ids. */
const ROLE_KEY_PREFIX = 'ASIA';

/**
 * The local stand-in of IAM: each role of the stage has an access key id derived from its ARN,
 * which the runtime puts in the environment of the functions that run as that role. The local
 * services read the key a request is signed with and decide it against that role's identity
 * policies in the template, as AWS would; requests signed with any other key (the CLI's, a
 * developer's script) are the developer's own and always allowed.
 *
 * Only identity policies are evaluated: sluice grants everything through them, and a call within
 * one account needs no resource policy. Key policies (KMS) and resource policies are not.
 */
export class LocalAuthorizer {
  private readonly byKey = new Map<string, { role: LocalRole; session: string }>();
  private readonly byArn = new Map<string, { role: LocalRole; session: string }>();

  constructor(
    roles: readonly LocalRole[],
    private readonly account: string,
    /** Role ARN → the session name calls made as it show (the function's name, as on Lambda). */
    sessions: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const role of roles) {
      const entry = { role, session: sessions.get(role.arn) ?? 'sluice-local' };
      this.byKey.set(accessKeyIdOf(role.arn), entry);
      this.byArn.set(role.arn, entry);
    }
  }

  /** The authorizer of a stage's roles. */
  static of(stage: LocalStage): LocalAuthorizer {
    const sessions = new Map<string, string>();
    for (const fn of stage.functions) if (fn.roleArn && !sessions.has(fn.roleArn)) sessions.set(fn.roleArn, fn.name);
    for (const machine of stage.stateMachines) if (machine.roleArn && !sessions.has(machine.roleArn)) sessions.set(machine.roleArn, machine.name);
    return new LocalAuthorizer(stage.roles, stage.environment.account, sessions);
  }

  /** The access key id a function running as `roleArn` signs its calls with. */
  accessKeyIdOf(roleArn: string): string {
    return accessKeyIdOf(roleArn);
  }

  /** See {@link RequestAuthorizer}. */
  readonly authorize: RequestAuthorizer = (check) => {
    const caller = check.accessKeyId === undefined ? undefined : this.byKey.get(check.accessKeyId);
    return caller ? this.decide(caller, check.action, check.resource) : undefined;
  };

  /** Throws {@link AccessDeniedError} unless `roleArn` may call `action` on `resource`. */
  assertAllowed(roleArn: string | undefined, action: string, resource: string): void {
    const caller = roleArn === undefined ? undefined : this.byArn.get(roleArn);
    const denial = caller ? this.decide(caller, action, resource) : undefined;
    if (denial) throw new AccessDeniedError(denial);
  }

  /**
   * Decisions made so far, by role, action and resource: a decision depends on nothing else (the
   * role's policies and the context keys are fixed for the runtime's life), and a backfill asks
   * the same few hundred thousand times. Bounded, as S3 object ARNs are unbounded.
   */
  private readonly decisions = new Map<string, string | undefined>();

  private decide(caller: { role: LocalRole; session: string }, action: string, resource: string): string | undefined {
    const cacheKey = `${caller.role.arn} ${action} ${resource}`;
    if (this.decisions.has(cacheKey)) return this.decisions.get(cacheKey);
    if (this.decisions.size >= MAX_DECISIONS) this.decisions.clear();
    const denial = this.evaluate(caller, action, resource);
    this.decisions.set(cacheKey, denial);
    return denial;
  }

  private evaluate(caller: { role: LocalRole; session: string }, action: string, resource: string): string | undefined {
    const decision = evaluatePolicies(caller.role.statements as unknown as PolicyStatement[], {
      action,
      resource,
      context: { 'aws:SecureTransport': 'true', 'aws:PrincipalAccount': this.account, 'aws:PrincipalArn': caller.role.arn },
    });
    if (decision.kind === 'allowed') return undefined;
    const user = `User: arn:aws:sts::${this.account}:assumed-role/${caller.role.name}/${caller.session}`;
    const attempt = `${user} is not authorized to perform: ${action} on resource: ${resource}`;
    const unknown =
      caller.role.unknownPolicies.length > 0 ? ` (the local runtime cannot read these policies of the role: ${caller.role.unknownPolicies.join(', ')})` : '';
    switch (decision.kind) {
      case 'explicitly-denied':
        return `${attempt} with an explicit deny in an identity-based policy`;
      case 'implicitly-denied':
        return `${attempt} because no identity-based policy allows the ${action} action${unknown}`;
      case 'undecided':
        return (
          `${attempt}: the local runtime cannot decide it, because a statement that applies has what it cannot evaluate ` +
          `(${decision.reason}); it refuses what it cannot decide rather than allow what AWS might not`
        );
    }
  }
}

/** A deterministic access key id per role: every process derives the same one. */
function accessKeyIdOf(roleArn: string): string {
  return ROLE_KEY_PREFIX + createHash('sha256').update(roleArn).digest('hex').slice(0, 16).toUpperCase();
}

/** The access key id of a SigV4 `Authorization` header (`Credential=<key>/<scope>`), if any. */
export function accessKeyIdOfRequest(authorization: string | string[] | undefined): string | undefined {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  return header ? /Credential=([^/,\s]+)\//.exec(header)?.[1] : undefined;
}
