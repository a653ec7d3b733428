import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_ATTRIBUTES, RUN_ENDED_OUTPUT } from '../../lib/compile/contract';
import { LocalRuntime } from '../../local/runtime';
import { LocalAuthorizer } from '../../local/iam/authorizer';
import { readLauncherEnvironment } from '../../orchestration';

const projectDir = fileURLToPath(new URL('../../examples', import.meta.url));
const pipelinesDir = fileURLToPath(new URL('./fixtures/pipelines', import.meta.url));

/**
 * "Nothing is lost", through the local runtime: the deployed launcher and run-monitor bundles,
 * the template's rules and queues, real dynalite and the local S3.
 */
describe('S3 arrivals through the local runtime', () => {
  let home: string;
  let runtime: LocalRuntime;

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'sluice-local-rerun-'));
    runtime = await LocalRuntime.start({ projectDir, pipelinesDir, home, retryIntervalMs: 50 });
    await runtime.startTriggers();
  }, 120_000);
  afterAll(async () => {
    await runtime?.stop();
    await rm(home, { recursive: true, force: true });
  });

  it('processes an arrival during a run by a rerun once the run in progress ends', async () => {
    // Given the first store's file of the day is being processed
    const bucket = readLauncherEnvironment(runtime.pipeline('late-drops').launcher.environment).bucketNames.raw;
    const s3 = runtime.s3.client();
    const status = async () => (await runtime.partitions('late-drops', { from: '2024-03-01', to: '2024-03-01', now: new Date() }))[0];
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'drops/2024-03-01/store-1.csv', Body: 'sku,qty\na,1\n' }));
    await expect.poll(async () => (await status())?.status, { timeout: 30_000, interval: 50 }).toBe('RUNNING');

    // When the second store's file lands while it runs
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'drops/2024-03-01/store-2.csv', Body: 'sku,qty\nb,2\n' }));
    await expect.poll(async () => (await status())?.record, { timeout: 5_000, interval: 50 }).toMatchObject({
      status: 'RUNNING',
      runNumber: 1,
      rerunRequested: true,
    });
    await runtime.settle();

    // Then a second run, started after the first ended, saw both files
    expect((await status())?.record).toMatchObject({ status: 'SUCCEEDED', runNumber: 2, trigger: 's3' });
    expect((await status())?.record).not.toHaveProperty('rerunRequested');
    const [second, first, ...others] = runtime.runs('late-drops');
    expect(others).toStrictEqual([]);
    expect([first?.status, second?.status]).toStrictEqual(['SUCCEEDED', 'SUCCEEDED']);
    expect(JSON.parse(second?.input ?? '{}')).toMatchObject({ partition: '2024-03-01', runNumber: 2, trigger: 's3' });
    expect(Date.parse(second!.startDate)).toBeGreaterThanOrEqual(Date.parse(first!.stopDate!));
    // The first run's end write found the request and said so; the second's found none
    expect(JSON.parse(first?.output ?? '{}')[RUN_ENDED_OUTPUT]).toStrictEqual({ rerunRequested: true });
    expect(JSON.parse(second?.output ?? '{}')[RUN_ENDED_OUTPUT]).toStrictEqual({ rerunRequested: false });
    expect(JSON.parse(second?.output ?? '{}').results.count).toStrictEqual({
      value: { files: ['drops/2024-03-01/store-1.csv', 'drops/2024-03-01/store-2.csv'] },
    });
  }, 60_000);

  it('starts nothing for an identical re-upload, and one new run for changed data after the run succeeded', async () => {
    // Given a partition whose one file was processed
    const bucket = readLauncherEnvironment(runtime.pipeline('late-drops').launcher.environment).bucketNames.raw;
    const s3 = runtime.s3.client();
    const put = (body: string) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'drops/2024-03-02/store-1.csv', Body: body }));
    const status = async () => (await runtime.partitions('late-drops', { from: '2024-03-02', to: '2024-03-02', now: new Date() }))[0];
    const runsOf = () => runtime.runs('late-drops').filter((r) => JSON.parse(r.input).partition === '2024-03-02');
    // S3 delivers its events asynchronously, as on AWS: each step waits for its event's effect.
    const duplicates = () => runtime.metrics.total('EventsDuplicate', 'late-drops');
    await put('sku,qty\na,1\n');
    await expect.poll(runsOf, { timeout: 20_000, interval: 50 }).toHaveLength(1);
    await runtime.settle();

    // When the same content is uploaded again
    const before = duplicates();
    await put('sku,qty\na,1\n');
    await expect.poll(duplicates, { timeout: 20_000, interval: 50 }).toBe(before + 1);
    await runtime.settle();

    // Then nothing ran again, and the partition shows what it consumed
    expect(runsOf()).toHaveLength(1);
    expect((await status())?.record?.consumed).toMatchObject([{ label: `s3://${bucket}/drops/2024-03-02/store-1.csv`, runNumber: 1 }]);

    // When the file changes
    await put('sku,qty\na,2\n');
    await expect.poll(runsOf, { timeout: 20_000, interval: 50 }).toHaveLength(2);
    await runtime.settle();

    // Then one more run ran
    expect(runsOf().map((r) => JSON.parse(r.input).runNumber)).toStrictEqual([2, 1]);
    expect((await status())?.record).toMatchObject({ status: 'SUCCEEDED', runNumber: 2 });
  }, 60_000);

  it('ends an execution started for a run its partition no longer names, running nothing and writing nothing', async () => {
    // Given a partition whose latest run succeeded
    const pipeline = runtime.pipeline('late-drops');
    await runtime.s3.client().send(
      new PutObjectCommand({ Bucket: readLauncherEnvironment(pipeline.launcher.environment).bucketNames.raw, Key: 'drops/2024-03-05/a.csv', Body: 'x\n' }),
    );
    // (the Object Created event reaches the runtime asynchronously: wait for its run, not just settle)
    const partition = async () => (await runtime.partitions('late-drops', { from: '2024-03-05', to: '2024-03-05', now: new Date() }))[0];
    await expect.poll(async () => (await partition()).record?.status, { timeout: 20_000, interval: 100 }).toBe('SUCCEEDED');
    await runtime.settle();
    const before = await partition();
    expect(before.record).toMatchObject({ status: 'SUCCEEDED', runNumber: 1 });

    // When an execution of an older, unclaimed run is started by hand (as from the console)
    // (its input copied from an earlier run, as the launcher writes it: parameters and reuse included)
    const stale = { pipeline: 'late-drops', partition: '2024-03-05', runId: 'by-hand', runNumber: 1, trigger: 'manual', partitions: ['2024-03-05'], range: { from: '2024-03-05', to: '2024-03-05' }, params: {}, reuse: {} };
    const { executionArn } = await runtime.engine.startExecution({ stateMachineArn: pipeline.stateMachine.arn, name: 'by-hand', input: JSON.stringify(stale) });
    const execution = await runtime.engine.waitForExecution(executionArn);
    await runtime.settle();

    // Then it fails as superseded without running a task, and the partition is as it was
    expect(execution).toMatchObject({ status: 'FAILED', error: 'sluice.RunSuperseded' });
    expect(execution.attempts.map((a) => a.state)).toStrictEqual(['Mark running']);
    expect((await partition()).record).toStrictEqual(before.record);
  }, 60_000);

  it('moves an event that can never start a run to the dead-letter queue at once, with the reason, counted once', async () => {
    // Given a key that matches the rule but names no valid partition (month 13)
    const bucket = readLauncherEnvironment(runtime.pipeline('late-drops').launcher.environment).bucketNames.raw;
    const before = runtime.runs('late-drops').length;

    // When it arrives
    await runtime.s3.client().send(new PutObjectCommand({ Bucket: bucket, Key: 'drops/2024-13-45/store-1.csv', Body: 'sku,qty\n' }));
    // S3 delivers its events asynchronously, as on AWS.
    const queue = runtime.engine.stage.queues.find((q) => q.deadLetter && q.name.includes('late-drops'))!;
    const deadLetterQueue = runtime.engine.stage.queues.find((q) => q.arn === queue.deadLetter!.targetArn)!;
    const file = join(home, 'dead-letters', `${deadLetterQueue.name}.jsonl`);
    await expect.poll(() => existsSync(file), { timeout: 20_000, interval: 50 }).toBe(true);
    await runtime.settle();

    // Then no run started, and the launcher itself (through the local SQS API, as its role allows)
    // put the event in its queue's dead-letter queue with why and where from, after one receive
    expect(runtime.runs('late-drops')).toHaveLength(before);
    const letters = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { reason: string; body: string; attributes: Record<string, string> });
    expect(letters).toHaveLength(1);
    expect(letters[0].reason).toMatch(/^No valid partition: .*2024-13-45/);
    expect(letters[0].attributes).toMatchObject({
      [DEAD_LETTER_ATTRIBUTES.reason]: letters[0].reason,
      [DEAD_LETTER_ATTRIBUTES.kind]: 'invalid',
      [DEAD_LETTER_ATTRIBUTES.sourceQueue]: queue.arn,
    });
    expect(runtime.metrics.total('EventsInvalid', 'late-drops')).toBe(1);
    expect(JSON.parse(letters[0].body)).toMatchObject({ 'detail-type': 'Object Created', detail: { object: { key: 'drops/2024-13-45/store-1.csv' } } });
  }, 60_000);

  it("fails a run whose task calls S3 beyond its role's policy, with AWS's AccessDenied naming the action and resource", async () => {
    // Given a task that may only read the raw bucket, When it writes to it
    const bucket = readLauncherEnvironment(runtime.pipeline('late-drops').launcher.environment).bucketNames.raw;
    const { execution } = await runtime.run('read-only', 'default');

    // Then the run fails with the SDK's AccessDenied and AWS's message
    expect(execution).toMatchObject({ status: 'FAILED', error: 'AccessDenied' });
    expect(JSON.parse(execution!.cause!).errorMessage).toMatch(
      new RegExp(
        `^User: arn:aws:sts::000000000000:assumed-role/[^/]+/local-Pipeline-read-only-\\S+ is not authorized to perform: s3:PutObject ` +
          `on resource: arn:aws:s3:::${bucket}/reports/summary\\.txt because no identity-based policy allows the s3:PutObject action$`,
      ),
    );
  }, 60_000);

  it("lets the run monitor's reconciliation read the index of requested reruns, and nothing of the table it was not granted", () => {
    // Given the stage's roles as the template has them
    const stage = runtime.engine.stage;
    const authorizer = LocalAuthorizer.of(stage);
    const monitor = stage.functions.find((f) => f.name.includes('late-drops') && f.environment.SLUICE_RERUN_STATE_MACHINE_ARN)!;
    const table = stage.tables[0].arn;
    const as = (action: string, resource: string) => authorizer.authorize({ accessKeyId: authorizer.accessKeyIdOf(monitor.roleArn!), action, resource });
    // Then reconciliation's Queries of the two sparse indexes are allowed
    expect(as('dynamodb:Query', `${table}/index/running`)).toBeUndefined();
    expect(as('dynamodb:Query', `${table}/index/rerun-requested`)).toBeUndefined();
    // And a Query of the table itself (what reconciliation once did) is refused as on AWS
    expect(as('dynamodb:Query', table)).toMatch(
      new RegExp(`is not authorized to perform: dynamodb:Query on resource: ${table.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} because no identity-based policy allows the dynamodb:Query action$`),
    );
  });
});

