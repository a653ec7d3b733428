/**
 * The package end to end, as a user gets it (`npm run test:package`; minutes, so not in
 * `npm test`; CI runs it): packs sluice, runs `sluice init` into a temporary folder outside the
 * repository, installs the tarball there from npm's cache with no network, and runs the new
 * project's own commands: `npm test`, `npx sluice run example`, `npx sluice validate` and
 * `npx cdk synth`, whose validation report must be clean, and the synth of a CDK app of the
 * team's own that adds `SluicePipelines` to its stack (its report too). Prints each step with its time and the
 * installed size, then `N passed, N failed`; exit 1 when a step failed.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const REPO = resolve(import.meta.dirname, '../..');
const work = mkdtempSync(join(tmpdir(), 'sluice-package-'));
const project = join(work, 'my-pipelines');
const keep = process.env.SLUICE_KEEP_PACKAGE_TEST === '1';

interface Step {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly detail?: string;
}
const steps: Step[] = [];

/** Runs a command; its output goes to the log, and its tail into the report when it fails. */
function step(name: string, command: string, args: readonly string[], cwd: string, check?: (stdout: string) => string | undefined): string {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, SLUICE_HOME: undefined, SLUICE_PIPELINES: undefined, npm_config_offline: 'true' }, maxBuffer: 64 * 1024 * 1024 });
  const seconds = (performance.now() - started) / 1000;
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const problem = result.status !== 0 ? `exit ${result.status ?? result.signal}` : check?.(result.stdout ?? '');
  steps.push({ name, ok: problem === undefined, seconds, ...(problem !== undefined && { detail: `${problem}\n${output.split('\n').slice(-25).join('\n')}` }) });
  process.stdout.write(`${problem === undefined ? 'ok  ' : 'FAIL'}  ${name}  (${seconds.toFixed(1)} s)\n`);
  if (problem !== undefined) process.stdout.write(`${steps.at(-1)!.detail}\n`);
  return result.stdout ?? '';
}

/** A step passes when `<project>/<outdir>/validation-report.json` lists no violation. */
function checkReport(outdir: string): void {
  const report = join(project, outdir, 'validation-report.json');
  const violations = existsSync(report)
    ? (JSON.parse(readFileSync(report, 'utf8')) as { pluginReports: { violations: unknown[] }[] }).pluginReports.flatMap((p) => p.violations).length
    : -1;
  const name = `clean validation report in ${outdir}`;
  steps.push({ name, ok: violations === 0, seconds: 0, ...(violations !== 0 && { detail: violations < 0 ? `no ${outdir}/validation-report.json` : `${violations} violations` }) });
  process.stdout.write(`${violations === 0 ? 'ok  ' : 'FAIL'}  ${name} (${violations} violations)\n`);
}

/** The README's example of sluice in an existing CDK app, on the scaffolded project's pipelines. */
const OWN_APP = `import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { loadPipelines, SluicePipelines } from 'sluice/cdk';

const app = new App();
const stack = new Stack(app, 'DataPlatform', { env: { account: '123456789012', region: 'eu-west-1' } });
new SluicePipelines(stack, 'Pipelines', {
  stage: 'own',
  pipelines: await loadPipelines('pipelines'),
  buckets: { data: s3.Bucket.fromBucketName(stack, 'Data', 'acme-data') },
  alertEmails: ['data-oncall@example.com'],
});
`;

function sizeOf(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((sum, entry) => sum + sizeOf(join(path, entry)), 0);
}

try {
  const packed = step('npm pack (builds dist/)', 'npm', ['pack', '--json', '--pack-destination', work], REPO);
  if (steps.at(-1)!.ok) runProject(join(work, (JSON.parse(packed.slice(packed.search(/^\[/m))) as { filename: string }[])[0]!.filename));
} finally {
  if (keep) process.stdout.write(`kept ${work}\n`);
  else rmSync(work, { recursive: true, force: true });
}

/** A new project from the tarball: init, install, then its own commands. */
function runProject(tarball: string): void {
  step('sluice init', 'node', [join(REPO, 'bin/sluice.js'), 'init', project], work, (out) => (out.includes('npx sluice run example') ? undefined : 'no next steps printed'));
  seedLockFile(tarball);
  step('npm install --offline (sluice from the tarball)', 'npm', ['install', '--offline', '--no-audit', '--no-fund'], project);
  // A team's own CDK app beside the project: type-checked by the project's `npm test` (tsc), then synthesized.
  writeFileSync(join(project, 'own-app.ts'), OWN_APP);
  step('npm test', 'npm', ['test'], project);
  step('npx sluice run example', 'npx', ['sluice', 'run', 'example', '--partition', '2024-01-03'], project, (out) => (out.includes('SUCCEEDED') ? undefined : 'the run did not succeed'));
  step('npx sluice validate', 'npx', ['sluice', 'validate'], project);
  step('npx cdk synth', 'npx', ['cdk', 'synth', '--no-notices', '-q'], project);
  checkReport('cdk.out');
  step('npx cdk synth of an own CDK app with SluicePipelines', 'npx', ['cdk', 'synth', '--no-notices', '-q', '--app', 'npx tsx own-app.ts', '-o', 'cdk.out.own'], project);
  checkReport('cdk.out.own');

  const installed = join(project, 'node_modules');
  if (existsSync(join(installed, 'sluice'))) {
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    const tree = execFileSync('npm', ['ls', '--all', '--omit=dev', '--parseable'], { cwd: project, encoding: 'utf8' }).split('\n').filter(Boolean);
    const production = tree.slice(1).reduce((sum, dir) => sum + (existsSync(dir) ? sizeOf(dir) - (dir === project ? 0 : nestedModules(dir)) : 0), 0);
    process.stdout.write(
      `\nsize: tarball ${mb(statSync(tarball).size)}, sluice installed ${mb(sizeOf(join(installed, 'sluice')))}, ` +
        `with its production dependencies ${mb(production)} (${tree.length - 1} packages); the project's node_modules ${mb(sizeOf(installed))}\n`,
    );
  }
}

/**
 * Points the project's sluice dependency at the tarball and gives it a lock file made from this
 * repository's: npm's cache holds the tarballs of every package sluice uses (an install from this
 * repository's lock fetched them) but not the registry's metadata that resolving version ranges
 * without a lock needs, so offline, only an install from a lock finds everything. The scaffold
 * pins the versions this repository's package.json names, so the lock has each of them.
 */
function seedLockFile(tarball: string): void {
  const repoPackage = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string };
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { name: string; version: string; packages: Record<string, unknown> };
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
  const spec = `file:${relative(project, tarball)}`;
  manifest.dependencies.sluice = spec;
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  lock.name = manifest.name;
  lock.version = manifest.version;
  lock.packages[''] = { name: manifest.name, version: manifest.version, dependencies: manifest.dependencies, devDependencies: manifest.devDependencies };
  lock.packages['node_modules/sluice'] = {
    version: repoPackage.version,
    resolved: spec,
    license: repoPackage.license,
    dependencies: repoPackage.dependencies,
    peerDependencies: repoPackage.peerDependencies,
    bin: repoPackage.bin,
    engines: repoPackage.engines,
  };
  writeFileSync(join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
}

/** Bytes of a package's own node_modules (counted separately by `npm ls`). */
function nestedModules(dir: string): number {
  const nested = join(dir, 'node_modules');
  return existsSync(nested) ? sizeOf(nested) : 0;
}

const failed = steps.filter((s) => !s.ok).length;
process.stdout.write(`\n${steps.length - failed} passed, ${failed} failed\n`);
process.exit(failed > 0 ? 1 : 0);
