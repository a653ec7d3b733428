import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { type Duration, type RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { packageModule, SOURCE_CONDITIONS } from '../../package-files';
import { acknowledgeWildcards } from './acknowledge';

/**
 * The Lambda runtime of every sluice function. Pinned, never `latest`: synth must be reproducible
 * offline, and the local runtime runs the same Node major (the `node` devDependency).
 */
export const SLUICE_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface SluiceFunctionProps {
  /** Absolute path of the handler module; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly environment?: Record<string, string>;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/** Lambda's limit on a function's environment: keys and values together, in bytes. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What an environment value CloudFormation fills in at deploy (a name or ARN) is counted as: more
 * than any name or ARN sluice passes.
 */
const DEPLOY_TIME_VALUE_BYTES = 256;

/**
 * A bundled Node.js function with its own role and log group, on arm64 (cheaper per GB-second
 * than x86_64; the bundles are plain JavaScript) and traced by X-Ray. The role is created here,
 * not by `NodejsFunction`, so that it carries no AWS managed policy: it may write to its own log
 * group and traces and nothing else until a construct grants it more. Synth fails when the
 * environment may exceed Lambda's 4 KB limit, which CloudFormation would only report at deploy.
 */
export class SluiceFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: SluiceFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: bundledEntry(props.entry),
      handler: 'handler',
      runtime: SLUICE_RUNTIME,
      description: props.description,
      timeout: props.timeout,
      memorySize: props.memorySize,
      environment: props.environment,
      role: this.role,
      logGroup: this.logGroup,
      architecture: lambda.Architecture.ARM_64,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        logLevel: LogLevel.ERROR,
        format: OutputFormat.ESM,
        // ESM bundles need `require` for the CommonJS parts of the AWS SDK and Powertools.
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        ...(SOURCE_CONDITIONS.length > 0 && { esbuildArgs: { '--conditions': SOURCE_CONDITIONS.join(',') } }),
      },
    });
    acknowledgeWildcards(this.role, [
      { actions: ['xray:PutTraceSegments'], reason: 'X-Ray accepts trace segments on no resource but "*"' },
    ]);
    const environment = props.environment ?? {};
    this.node.addValidation({ validate: () => environmentProblems(this, props.description, environment) });
  }
}

const LOCK_FILES = ['package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb'];

/** The wrapper of every task handler (see `orchestration/task-invocation.ts`). */
const TASK_INVOCATION_MODULE = packageModule('orchestration/task-invocation.ts');

/**
 * The entry a task function bundles: a module generated next to the other entries (see
 * {@link generatedEntry}) that runs the task's handler in sluice's wrapper, which logs which
 * pipeline, partition, run, task and try each invocation is. esbuild bundles both, so the
 * function holds the handler's code and the wrapper's, and no more.
 */
export function taskEntry(handler: string): string {
  const content =
    `import { withInvocationLog } from ${JSON.stringify(TASK_INVOCATION_MODULE)};\n` +
    `import { handler as task } from ${JSON.stringify(resolve(handler))};\n` +
    'export const handler = withInvocationLog(task);\n';
  return generatedEntry(content) ?? handler;
}

/**
 * NodejsFunction bundles only entries under its project root, the folder of the lock file found
 * from the working folder, and runs esbuild from there: a handler elsewhere on disk (a pipelines
 * folder named by `--pipelines` or `$SLUICE_PIPELINES`) would be refused. Such a handler is
 * bundled through a one-line module under the root's `node_modules/.cache/sluice/` that
 * re-exports it: esbuild follows the import to the handler's own folder and resolves the
 * handler's imports from there, so the bundle holds the same code.
 */
function bundledEntry(entry: string): string {
  const root = projectRoot();
  if (root === undefined || !relative(root, resolve(entry)).startsWith('..')) return entry;
  return generatedEntry(`export { handler } from ${JSON.stringify(resolve(entry))};\n`) ?? entry;
}

/**
 * A module with `content` under the project root's `node_modules/.cache/sluice/entries/`, named
 * by its content; `undefined` without a project root (NodejsFunction then reports the missing
 * lock file itself).
 */
function generatedEntry(content: string): string | undefined {
  const root = projectRoot();
  if (root === undefined) return undefined;
  const stub = join(root, 'node_modules', '.cache', 'sluice', 'entries', `${createHash('sha256').update(content).digest('hex').slice(0, 16)}.ts`);
  if (!existsSync(stub) || readFileSync(stub, 'utf8') !== content) {
    mkdirSync(dirname(stub), { recursive: true });
    writeFileSync(stub, content);
  }
  return stub;
}

/** The folder of the lock file found from the working folder up, as NodejsFunction finds it. */
function projectRoot(): string | undefined {
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    if (LOCK_FILES.some((name) => existsSync(join(dir, name)))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The size Lambda counts for `environment`, once deployed: keys and values in UTF-8, each value
 * filled in at deploy counted as {@link DEPLOY_TIME_VALUE_BYTES}.
 */
export function environmentSize(scope: Construct, environment: Readonly<Record<string, string>>): Record<string, number> {
  const stack = Stack.of(scope);
  const sizes: Record<string, number> = {};
  for (const [key, value] of Object.entries(environment)) {
    sizes[key] = Buffer.byteLength(key) + valueSize(stack.resolve(value));
  }
  return sizes;
}

function valueSize(resolved: unknown): number {
  if (typeof resolved === 'string') return Token.isUnresolved(resolved) ? DEPLOY_TIME_VALUE_BYTES : Buffer.byteLength(resolved);
  const join = (resolved as { 'Fn::Join'?: [string, unknown[]] } | undefined)?.['Fn::Join'];
  if (join) return join[1].reduce<number>((sum, part) => sum + valueSize(part), 0) + Buffer.byteLength(join[0]) * Math.max(0, join[1].length - 1);
  return DEPLOY_TIME_VALUE_BYTES;
}

function environmentProblems(scope: Construct, description: string, environment: Readonly<Record<string, string>>): string[] {
  const sizes = environmentSize(scope, environment);
  const total = Object.values(sizes).reduce((sum, size) => sum + size, 0);
  if (total <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return [];
  const largest = Object.entries(sizes)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 3)
    .map(([key, size]) => `${key} ${size} B`)
    .join(', ');
  return [
    `${description}: its environment variables take about ${total} bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} (largest: ${largest}). ` +
      'Fix: declare fewer static partition keys or S3 triggers, or shorten task environment values',
  ];
}


