/**
 * The local physical identity of a template resource: the name CloudFormation would give it
 * (its name property, else `<stack>-<logicalId>`) and the ARNs and attributes AWS derives.
 */

/** Where names live. */
export interface Environment {
  readonly region: string;
  readonly account: string;
}

interface TypeSpec {
  /** Property that names the resource; absent means CloudFormation always generates the name. */
  readonly nameProperty?: string;
  readonly maxLength: number;
  readonly lowercase?: boolean;
  /** What `Ref` returns. */
  readonly ref: 'name' | 'arn' | 'url';
  readonly arn: (name: string, env: Environment, props: Record<string, unknown>) => string;
  readonly attributes?: Readonly<Record<string, (name: string, env: Environment) => string>>;
}

const TYPES: Readonly<Record<string, TypeSpec>> = {
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    maxLength: 64,
    ref: 'name',
    arn: (n, e) => `arn:aws:lambda:${e.region}:${e.account}:function:${n}`,
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    maxLength: 255,
    ref: 'name',
    arn: (n, e) => `arn:aws:dynamodb:${e.region}:${e.account}:table/${n}`,
  },
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    maxLength: 63,
    lowercase: true,
    ref: 'name',
    arn: (n) => `arn:aws:s3:::${n}`,
    attributes: {
      DomainName: (n) => `${n}.s3.amazonaws.com`,
      RegionalDomainName: (n, e) => `${n}.s3.${e.region}.amazonaws.com`,
    },
  },
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    maxLength: 80,
    ref: 'url',
    arn: (n, e) => `arn:aws:sqs:${e.region}:${e.account}:${n}`,
    attributes: { QueueName: (n) => n, QueueUrl: (n, e) => queueUrl(n, e) },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    maxLength: 256,
    ref: 'arn',
    arn: (n, e) => `arn:aws:sns:${e.region}:${e.account}:${n}`,
    attributes: { TopicName: (n) => n, TopicArn: (n, e) => `arn:aws:sns:${e.region}:${e.account}:${n}` },
  },
  'AWS::StepFunctions::StateMachine': {
    nameProperty: 'StateMachineName',
    maxLength: 80,
    ref: 'arn',
    arn: (n, e) => `arn:aws:states:${e.region}:${e.account}:stateMachine:${n}`,
    attributes: { Name: (n) => n },
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    maxLength: 64,
    ref: 'name',
    arn: (n, e) => `arn:aws:iam::${e.account}:role/${n}`,
    attributes: { RoleId: (n) => `AROA${n.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 17)}` },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    maxLength: 512,
    ref: 'name',
    arn: (n, e) => `arn:aws:logs:${e.region}:${e.account}:log-group:${n}:*`,
  },
  'AWS::Events::Rule': {
    nameProperty: 'Name',
    maxLength: 64,
    ref: 'name',
    arn: (n, e, p) =>
      `arn:aws:events:${e.region}:${e.account}:rule/${typeof p.EventBusName === 'string' && p.EventBusName !== 'default' ? `${p.EventBusName}/` : ''}${n}`,
  },
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    maxLength: 256,
    ref: 'name',
    arn: (n, e) => `arn:aws:events:${e.region}:${e.account}:event-bus/${n}`,
    attributes: { Name: (n) => n },
  },
  'AWS::Scheduler::Schedule': {
    nameProperty: 'Name',
    maxLength: 64,
    ref: 'name',
    arn: (n, e, p) => `arn:aws:scheduler:${e.region}:${e.account}:schedule/${typeof p.GroupName === 'string' ? p.GroupName : 'default'}/${n}`,
  },
  'AWS::KMS::Key': {
    maxLength: 256,
    ref: 'name',
    arn: (n, e) => `arn:aws:kms:${e.region}:${e.account}:key/${n}`,
    attributes: { KeyId: (n) => n },
  },
  'AWS::Scheduler::ScheduleGroup': {
    nameProperty: 'Name',
    maxLength: 64,
    ref: 'name',
    arn: (n, e) => `arn:aws:scheduler:${e.region}:${e.account}:schedule-group/${n}`,
  },
};

export function queueUrl(name: string, env: Environment): string {
  return `https://sqs.${env.region}.amazonaws.com/${env.account}/${name}`;
}

/** The identity of one resource once its name property (if any) is resolved. */
export interface PhysicalResource {
  readonly name: string;
  readonly ref: string;
  /** An attribute, or `undefined` when the local runtime does not know it. */
  attribute(attribute: string): string | undefined;
}

/** Builds the physical identity; `resolvedProps` are the resource's properties, resolved. */
export function physicalResource(
  type: string,
  logicalId: string,
  stackName: string,
  resolvedName: unknown,
  props: Record<string, unknown>,
  env: Environment,
): PhysicalResource {
  const spec = TYPES[type];
  const generated = `${stackName}-${logicalId}`;
  let name = typeof resolvedName === 'string' ? resolvedName : generated;
  if (spec && typeof resolvedName !== 'string') {
    name = name.slice(0, spec.maxLength);
    if (spec.lowercase) name = name.toLowerCase();
  }
  if (!spec) return { name, ref: name, attribute: () => undefined };
  const arn = spec.arn(name, env, props);
  return {
    name,
    ref: spec.ref === 'arn' ? arn : spec.ref === 'url' ? queueUrl(name, env) : name,
    attribute: (attribute) => (attribute === 'Arn' ? arn : spec.attributes?.[attribute]?.(name, env)),
  };
}

/** The property holding the resource's name, if its type has one. */
export function nameProperty(type: string): string | undefined {
  return TYPES[type]?.nameProperty;
}
