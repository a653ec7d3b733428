import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { packageFile } from '../../lib/package-files';

/** Versions a new project pins: sluice's own, and those of the tools sluice is built and tested with. */
export interface ScaffoldVersions {
  readonly sluice: string;
  readonly [dependency: string]: string;
}

/** A file `sluice init` would write already exists: it creates projects, it never overwrites. */
export class ProjectExistsError extends Error {
  constructor(readonly files: readonly string[], dir: string) {
    super(`${dir} already holds ${files.join(', ')}: sluice init writes a new project; give it an empty or new folder`);
    this.name = 'ProjectExistsError';
  }
}

/** The versions of sluice's package.json: the project then runs on exactly what sluice was tested with. */
export function sluiceVersions(): ScaffoldVersions {
  const pkg = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as {
    version: string;
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const all = { ...pkg.devDependencies, ...pkg.dependencies };
  return { ...all, sluice: pkg.version };
}

/**
 * Writes a new sluice project into `dir`: package.json depending on sluice, cdk.json running the
 * project's CDK app, sluice.config.ts with its stages, an example pipeline with real handlers
 * (S3 through the AWS SDK), a test of it on the embedded runtime, .gitignore and a README.
 *
 * @returns the files written, relative to `dir`
 * @throws ProjectExistsError when any of them exists
 */
export function scaffoldProject(dir: string, versions: ScaffoldVersions = sluiceVersions()): string[] {
  const root = resolve(dir);
  const files = projectFiles(basename(root), versions);
  const existing = Object.keys(files).filter((file) => existsSync(join(root, file)));
  if (existing.length > 0) throw new ProjectExistsError(existing, root);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), content);
  }
  return Object.keys(files);
}

/** npm package names: lowercase, no spaces; the folder's name made one. */
function packageName(folder: string): string {
  return folder.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '') || 'sluice-project';
}

function projectFiles(folder: string, v: ScaffoldVersions): Record<string, string> {
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'package.json': json({
      name: packageName(folder),
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        test: 'tsc --noEmit && vitest run',
        validate: 'sluice validate',
        synth: 'cdk synth --no-notices -q',
      },
      dependencies: {
        sluice: v.sluice,
        'aws-cdk-lib': v['aws-cdk-lib'],
        constructs: v.constructs,
        '@aws-sdk/client-s3': v['@aws-sdk/client-s3'],
      },
      devDependencies: {
        '@types/node': v['@types/node'],
        'aws-cdk': v['aws-cdk'],
        node: v.node,
        typescript: v.typescript,
        vitest: v.vitest,
      },
    }),
    'cdk.json': json({
      app: 'npx sluice cdk-app',
      output: 'cdk.out',
      context: { '@aws-cdk/core:validationReportJson': true, 'cli-telemetry': false },
    }),
    'tsconfig.json': json({
      compilerOptions: {
        target: 'ES2023',
        lib: ['ES2023'],
        module: 'preserve',
        moduleResolution: 'bundler',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
      },
      include: ['pipelines', 'test', '*.ts'],
    }),
    'vitest.config.ts': `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // A test run synthesizes the local stage (bundling every function) before its first run.
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
`,
    'sluice.config.ts': `import { RemovalPolicy } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { validateStages } from 'sluice/cdk';

/**
 * Where this project deploys. Pipelines name buckets by logical name (\`data\`); each stage says
 * which bucket that is: \`managed\` (the stage creates it) or \`imported\` (\`bucketName\`, yours).
 * \`local\` is the stage \`npx sluice\` runs on the embedded runtime; it is never deployed.
 * Deploy one stage with \`npx cdk deploy 'dev/*'\`.
 */
export const stages = validateStages([
  {
    name: 'local',
    account: '000000000000',
    region: 'us-east-1',
    buckets: { data: { kind: 'managed' } },
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_DAY,
  },
  {
    name: 'dev',
    account: '111111111111', // your account id
    region: 'eu-west-1',
    buckets: { data: { kind: 'managed' } },
    alertEmails: ['data-team@example.com'],
    removalPolicy: RemovalPolicy.DESTROY,
    logRetention: logs.RetentionDays.ONE_MONTH,
  },
]);
`,
    'pipelines/example/pipeline.ts': `import { daily, pipeline, task } from 'sluice';

/** Every day at 06:00 UTC: extract the previous day's readings, then summarise them. */
export default pipeline({
  name: 'example',
  description: 'Extracts one day of readings into the data bucket and summarises them',
  partitions: daily({ start: '2024-01-01', timezone: 'UTC' }),
  schedule: { cron: '0 6 * * *', timezone: 'UTC' },
  retry: { attempts: 3, intervalSeconds: 2, backoffRate: 2 },
  tasks: {
    extract: task({ handler: './extract.ts', buckets: { write: ['data'] } }),
    summarise: task({ handler: './summarise.ts', after: ['extract'], buckets: { read: ['data'] } }),
  },
});
`,
    'pipelines/example/storage.ts': `import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';

// Locally, sluice points the SDK at its own S3 (AWS_ENDPOINT_URL_S3), which needs path-style addresses.
const s3 = new S3Client({ forcePathStyle: process.env.SLUICE_S3_FORCE_PATH_STYLE === 'true' });

/** The deployed name of a bucket the task was granted in \`task({ buckets })\`, by its logical name. */
export function bucketName(logical: string): string {
  const buckets = JSON.parse(process.env.SLUICE_BUCKETS ?? '{}') as Record<string, string>;
  const name = buckets[logical];
  if (!name) throw new Error(\`bucket "\${logical}" was not granted to this task: add it to task({ buckets })\`);
  return name;
}

export async function putJson(bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: 'application/json' }));
}

export async function getJson<T>(bucket: string, key: string): Promise<T> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return JSON.parse(await object.Body!.transformToString('utf-8')) as T;
}
`,
    'pipelines/example/extract.ts': `import type { TaskEvent } from 'sluice';
import { bucketName, putJson } from './storage';

export interface Reading {
  readonly hour: number;
  readonly value: number;
}

/**
 * Extracts the day's hourly readings (generated here; a real pipeline reads them from a source
 * system) into the data bucket. Returns where they are, not the data: results stay small.
 */
export const handler = async (event: TaskEvent) => {
  const day = Number(event.partition.slice(-2));
  const readings: Reading[] = Array.from({ length: 24 }, (_, hour) => ({ hour, value: day * 100 + hour }));
  const key = \`readings/\${event.partition}.json\`;
  await putJson(bucketName('data'), key, readings);
  return { key, count: readings.length };
};
`,
    'pipelines/example/summarise.ts': `import type { TaskEvent } from 'sluice';
import type { Reading } from './extract';
import { bucketName, getJson } from './storage';

/** Summarises the readings the extract task wrote (its result names the object). */
export const handler = async (event: TaskEvent) => {
  const { key } = event.results.extract as { key: string };
  const readings = await getJson<Reading[]>(bucketName('data'), key);
  const values = readings.map((r) => r.value);
  return { count: values.length, min: Math.min(...values), max: Math.max(...values), total: values.reduce((a, b) => a + b, 0) };
};
`,
    'test/example.test.ts': `import { runPipeline, stopRuntimes } from 'sluice/testing';
import { afterAll, describe, expect, it } from 'vitest';

afterAll(stopRuntimes);

describe('the example pipeline', () => {
  it('extracts a day of readings and summarises them', async () => {
    // The same synthesized state machine, bundles, S3 and DynamoDB as \`npx sluice run\`, locally.
    const run = await runPipeline('example', { partition: '2024-01-02' });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.extract.result).toEqual({ key: 'readings/2024-01-02.json', count: 24 });
    expect(run.tasks.summarise.result).toEqual({ count: 24, min: 200, max: 223, total: 5076 });
    expect(run.tasks.summarise.attempts).toHaveLength(1);
  });

  it('retries a failing extract, then fails the run without summarising', async () => {
    // An override stands in for a task's handler: here, a source system that is down.
    const run = await runPipeline('example', {
      partition: '2024-01-03',
      overrides: { extract: async () => { throw Object.assign(new Error('source down'), { name: 'SourceDownError' }); } },
    });

    expect(run.status).toBe('FAILED');
    expect(run.tasks.extract.attempts.map((a) => a.error)).toEqual(['SourceDownError', 'SourceDownError', 'SourceDownError']);
    expect(run.tasks.summarise.status).toBe('NOT_RUN');
  });
});
`,
    '.gitignore': 'node_modules/\ncdk.out/\n.sluice/\nsecrets.local.json\n',
    'README.md': `# ${folder}

\`\`\`sh
npm install && npx sluice run example   # install, then run the example pipeline locally
npm test                                  # type-check, and run the pipeline's test on the local runtime
\`\`\`

Data pipelines on [sluice](https://www.npmjs.com/package/sluice): each pipeline is typed
TypeScript under \`pipelines/<name>/pipeline.ts\`; \`npx cdk deploy\` compiles it into a Step
Functions state machine with one Lambda function per task, and \`npx sluice\` runs the same
synthesized output locally, without an AWS account.

| file | what |
|---|---|
| \`pipelines/example/\` | the example pipeline: \`pipeline.ts\` (partitions, schedule, tasks) and its handlers |
| \`test/example.test.ts\` | its test: one run on the local runtime (\`runPipeline\` from \`sluice/testing\`) |
| \`sluice.config.ts\` | the stages: accounts, regions, buckets by logical name, alert addresses |
| \`cdk.json\` | the CDK app (\`npx sluice cdk-app\`): every stage with every pipeline |

\`\`\`sh
npx sluice list                           # pipelines, partitions, schedules
npx sluice validate                       # every problem of every pipeline, at once
npx sluice run example --partition 2024-01-01
npx sluice status example                 # partition statuses
npx cdk synth --no-notices                # offline; cdk.out/validation-report.json lists findings
npx cdk deploy 'dev/*'                    # deploy the dev stage (set its account first)
\`\`\`
`,
  };
}
