import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { captureFunctionOutput, LocalRuntime, type RuntimeNotice } from 'sluice/testing';

/**
 * The demo (`npm run demo`): starts the local services, drops the sample files of demo/data into
 * the local raw bucket, lets the S3 triggers and one schedule tick run the example pipelines, then
 * prints the partition statuses and where the outputs are. State lives under `$SLUICE_HOME/demo`
 * (default `.sluice/demo` of this project) and starts fresh each time (the synthesized assembly is
 * kept).
 */
const projectDir = fileURLToPath(new URL('..', import.meta.url));
const dataDir = join(projectDir, 'demo', 'data');
const home = join(resolve(process.env.SLUICE_HOME ?? join(projectDir, '.sluice')), 'demo');

const expected: Record<string, string[]> = {
  'daily-sales': ['2024-03-01', '2024-03-02'],
  'regional-report': ['eu', 'us'],
  'hourly-ingest': ['2024-03-01T05'],
};

// What the demo says goes to the terminal; what the functions print, to a file (see main).
const write = process.stdout.write.bind(process.stdout);

function say(line = ''): void {
  write(`${line}\n`);
}

function onNotice(notice: RuntimeNotice): void {
  if (notice.kind === 'dead-lettered') say(`  ! dead letter from ${notice.source}: ${notice.reason}`);
  if (notice.kind === 'error') say(`  ! ${notice.message}`);
  if (notice.kind === 'alert') say(`  ! alert: ${notice.message.subject ?? notice.message.message.split('\n')[0]}`);
}

function sampleFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dataDir, join(entry.parentPath, entry.name)))
    .sort();
}

async function main(): Promise<number> {
  for (const entry of existsSync(home) ? readdirSync(home) : []) {
    if (entry !== 'cdk.out') rmSync(join(home, entry), { recursive: true, force: true });
  }
  // The functions run in this process: their logs and metrics go to a file, as with the CLI.
  captureFunctionOutput({ logFile: join(home, 'functions.log'), verbose: false });
  const started = performance.now();
  say('sluice demo: the example pipelines of examples/pipelines/, on the embedded local runtime');
  const runtime = await LocalRuntime.start({ projectDir, pipelinesDir: join(projectDir, 'pipelines'), home, notify: onNotice });
  try {
    say(`  local stage ${runtime.synth.cached ? 'from the synth cache' : 'synthesized'} in ${((performance.now() - started) / 1000).toFixed(1)} s: ${runtime.synth.assemblyDir}`);
    say(`  S3 ${runtime.endpoints.s3}   DynamoDB ${runtime.endpoints.dynamodb}`);
    await runtime.startTriggers();
    const buckets = runtime.engine.stage.buckets.map((b) => b.name);
    const raw = buckets.find((b) => b.includes('bucketraw'));
    const curated = buckets.find((b) => b.includes('bucketcurated'));
    if (!raw || !curated) throw new Error(`the local stage has no raw and curated buckets (it has: ${buckets.join(', ')})`);

    say();
    say(`1. Dropping the sample files into s3://${raw}/ (each PutObject is an "Object Created" event)`);
    for (const key of [...sampleFiles(dataDir), 'sales/README.txt']) {
      const body = key.endsWith('README.txt') ? 'not a sales file: matches no trigger\n' : readFileSync(join(dataDir, key));
      await runtime.s3.client().send(new PutObjectCommand({ Bucket: raw, Key: key, Body: body }));
      say(`   put ${key}`);
    }

    say();
    say('2. A tick of the hourly-ingest schedule, scheduled at 2024-03-01 06:05 UTC (its source fails twice, then answers)');
    const schedule = runtime.engine.stage.schedules.find((s) => s.name.includes('hourly-ingest'));
    if (!schedule) throw new Error('the local stage has no hourly-ingest schedule');
    await runtime.fireSchedule(schedule.name, new Date('2024-03-01T06:05:00Z'));

    say();
    say('3. Waiting for the triggered runs to finish...');
    await runtime.settle();

    say();
    say('Partition statuses');
    let failures = 0;
    for (const [pipeline, partitions] of Object.entries(expected)) {
      const views = await runtime.partitions(pipeline, { from: partitions[0], to: partitions.at(-1), now: new Date() });
      for (const view of views.filter((v) => partitions.includes(v.partition))) {
        if (view.status !== 'SUCCEEDED') failures++;
        const runs = runtime.runs(pipeline).filter((r) => r.name === view.record?.runId);
        const retries = runs.flatMap((r) => r.attempts).filter((a) => a.error).length;
        say(
          `  ${pipeline.padEnd(16)} ${view.partition.padEnd(14)} ${view.status.padEnd(10)} ` +
            `${view.record ? `trigger ${view.record.trigger}, run ${view.record.runNumber}` : ''}` +
            `${retries ? `, ${retries} task retries` : ''}${view.record?.error ? `, ${view.record.error}` : ''}` +
            `${view.record && view.record.runNumber > 1 && view.record.trigger === 's3' ? ' (run again for a file that arrived later)' : ''}`,
        );
      }
    }

    say();
    say(`Outputs in s3://${curated}/ (files under ${join(home, 's3', curated)})`);
    const listed = await runtime.s3.client().send(new ListObjectsV2Command({ Bucket: curated }));
    for (const object of listed.Contents ?? []) say(`  ${object.Key}  (${object.Size} bytes)`);

    say();
    say(failures === 0 ? 'All partitions SUCCEEDED.' : `${failures} partition(s) did not succeed.`);
    const cd = relative(process.cwd(), projectDir);
    say(`Try: ${cd ? `cd ${cd} && ` : ''}SLUICE_HOME=${relative(projectDir, home) || '.'} npx sluice status daily-sales --from 2024-03-01 --to 2024-03-02`);
    return failures === 0 ? 0 : 1;
  } finally {
    await runtime.stop();
  }
}

process.exitCode = await main();
