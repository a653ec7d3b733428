import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const PROJECT = fileURLToPath(new URL('..', import.meta.url));
/** The CDK CLI of the project's dependencies (`npx cdk`). */
const CDK = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');

describe('npx cdk synth', () => {
  let outdir: string;
  let result: ReturnType<typeof spawnSync>;

  beforeAll(() => {
    // Given no AWS credentials, no metadata service and no notices
    outdir = mkdtempSync(join(tmpdir(), 'sluice-cdk-'));
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AWS_')));
    // When the CDK CLI synthesizes the app as a user runs it
    result = spawnSync(process.execPath, [CDK, 'synth', '--no-notices', '-q', '-o', outdir], {
      cwd: PROJECT,
      env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DISABLE_CLI_TELEMETRY: 'true' },
      encoding: 'utf8',
      timeout: 240_000,
    });
  });

  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes every stage of sluice.config.ts offline', () => {
    expect(result.status, String(result.stderr)).toBe(0);
    const stages = readdirSync(outdir).filter((entry) => entry.startsWith('assembly-')).sort();
    expect(stages).toStrictEqual(['assembly-dev', 'assembly-local', 'assembly-prod', 'assembly-test']);
  });

  it('leaves a validation report with no violations', () => {
    const file = join(outdir, 'validation-report.json');
    expect(existsSync(file)).toBe(true);
    const report = JSON.parse(readFileSync(file, 'utf8')) as { pluginReports: { violations: unknown[] }[] };
    expect(report.pluginReports.flatMap((p) => p.violations)).toStrictEqual([]);
  });
});
