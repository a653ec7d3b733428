import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline, stopRuntimes } from 'sluice/testing';

// The project's own test of a pipeline, as a team writes it: the run goes through the same
// synthesized state machine, bundles, S3 and DynamoDB as `npx sluice run hourly-ingest`.
const projectDir = fileURLToPath(new URL('..', import.meta.url));
const home = mkdtempSync(join(tmpdir(), 'sluice-examples-'));
const options = { projectDir, home, retryIntervalMs: 10 };
afterAll(async () => {
  await stopRuntimes();
  rmSync(home, { recursive: true, force: true });
});

describe('hourly-ingest', () => {
  it("gets through the source's two outages by retrying fetch, then publishes the hour's statistics", async () => {
    const run = await runPipeline('hourly-ingest', { ...options, partition: '2024-03-01T05' });

    expect(run.status).toBe('SUCCEEDED');
    expect(run.tasks.fetch.attempts.map((a) => a.error)).toStrictEqual(['SourceUnavailableError', 'SourceUnavailableError', undefined]);
    expect(run.tasks.fetch.result).toStrictEqual({ key: 'ingest/meters/2024-03-01T05.json', readings: 24 });
    expect(run.tasks.stats.result).toStrictEqual({ stats: 'ingest/stats/2024-03-01T05.json' });
  });

  it('fails without running stats when the source stays down, retrying only SourceUnavailableError', async () => {
    const down = Object.assign(new Error('meter source unavailable'), { name: 'SourceUnavailableError' });
    const run = await runPipeline('hourly-ingest', { ...options, partition: '2024-03-01T06', overrides: { fetch: async () => { throw down; } } });

    expect(run.status).toBe('FAILED');
    expect(run.tasks.fetch.attempts).toHaveLength(4);
    expect(run.tasks.stats.status).toBe('NOT_RUN');
  });
});
