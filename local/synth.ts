import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { PACKAGE_DIR, RUNS_FROM_BUILD } from '../lib/package-files';
import { PROJECT_CONFIG_FILE } from '../lib/loader/project-config';
import { processExists } from './process';
import type { ValidationIssue } from '../lib/compile/errors';
import { readJsonFile, withLock } from './state-files';

/** Properties of {@link synthLocalStage}. */
export interface SynthLocalProps {
  /** The project: its `sluice.config.ts` names the stages. */
  readonly projectDir: string;
  /** Where the pipelines are discovered. */
  readonly pipelinesDir: string;
  /** Local state directory; the assembly is written to `<home>/cdk.out`. */
  readonly home: string;
  /** The stage to synthesize. @default 'local' */
  readonly stage?: string;
}

/** Outcome of {@link synthLocalStage}. */
export interface SynthLocalResult {
  /** The cloud assembly directory. */
  readonly assemblyDir: string;
  /** True when the sources had not changed since the last synth, so nothing was synthesized. */
  readonly cached: boolean;
  /** Content hash of every source the assembly was built from. */
  readonly hash: string;
  /**
   * The problems of the pipelines left out of the assembly (a typo in one pipeline must not stop
   * the others): `sluice validate` and `cdk synth` still fail on them.
   */
  readonly skipped: readonly ValidationIssue[];
}

/** Files of the sluice package that shape the cloud assembly: its sources, or its build. */
const PACKAGE_SOURCES = RUNS_FROM_BUILD ? ['dist', 'package.json'] : ['bin', 'lib', 'lambdas', 'runtime', 'config', 'package-lock.json'];
/** Files of the project that shape it (the stages may import from `config/`). */
const PROJECT_SOURCES = [PROJECT_CONFIG_FILE, 'config', 'package-lock.json'];
const HASH_FILE = 'sluice-sources.sha256';
const SYNTH_LOCK = 'synth.lock';
const SKIPPED_FILE = 'sluice-skipped.json';
const SKIPPED = new Set(['node_modules', 'cdk.out', '.sluice', '.git']);

/**
 * Synthesizes the CDK app's local stage into `<home>/cdk.out`, unless every source file is
 * unchanged since the last synth (compared by content hash, so a second run starts at once).
 * It is the same app `cdk synth` builds; only the stage and the output folder differ.
 */
export async function synthLocalStage(props: SynthLocalProps): Promise<SynthLocalResult> {
  const stage = props.stage ?? 'local';
  const assemblyDir = join(props.home, 'cdk.out');
  const hash = sourceHash(props.projectDir, props.pipelinesDir, stage);
  const hashFile = join(assemblyDir, HASH_FILE);
  const current = () => existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash;
  mkdirSync(props.home, { recursive: true });
  removeInterruptedBuilds(props.home);
  const skipped = () => (existsSync(join(assemblyDir, SKIPPED_FILE)) ? readJsonFile<ValidationIssue[]>(join(assemblyDir, SKIPPED_FILE)) : []);
  if (current()) return { assemblyDir, cached: true, hash, skipped: skipped() };
  // One synth at a time per home: a second command waits, then finds the assembly current.
  return withLock(join(props.home, SYNTH_LOCK), async () => {
    if (current()) return { assemblyDir, cached: true, hash, skipped: skipped() };
    await synthesize(props, stage, assemblyDir, hash);
    return { assemblyDir, cached: false, hash, skipped: skipped() };
  });
}

/** Folders of builds whose process is gone (a crash, Ctrl+C during synth). */
function removeInterruptedBuilds(home: string): void {
  for (const entry of readdirSync(home)) {
    const pid = /^cdk\.out\.building-(\d+)$/.exec(entry)?.[1];
    if (pid !== undefined && !processExists(Number(pid))) rmSync(join(home, entry), { recursive: true, force: true });
  }
}

async function synthesize(props: SynthLocalProps, stage: string, assemblyDir: string, hash: string): Promise<void> {
  // Loaded only on a cache miss: importing aws-cdk-lib alone takes longer than a warm start.
  const [{ loadProjectStages }, { discoverPipelines, leaveOut }, { createSluiceApp }, { selectStages, bucketIssues }] = await Promise.all([
    import('../lib/loader/project-config'),
    import('../lib/loader'),
    import('../lib/stacks/app'),
    import('../lib/stacks/stage-config'),
  ]);
  const stages = await loadProjectStages(props.projectDir);
  const selected = selectStages(stages, stage);
  const discovered = await discoverPipelines(props.pipelinesDir);
  const unknown = selected.flatMap((config) => bucketIssues(config, discovered.pipelines.map((p) => p.compiled)));
  const { pipelines, blocked } = leaveOut(discovered.pipelines, unknown);
  const skipped = [...discovered.issues, ...discovered.blocked, ...unknown, ...blocked];
  const building = `${assemblyDir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const { app } = createSluiceApp({
    stages: selected,
    pipelines,
    outdir: building,
    // The compliance checks report on what deploys; they change nothing in the assembly.
    complianceChecks: false,
  });
  app.synth();
  writeFileSync(join(building, SKIPPED_FILE), JSON.stringify(skipped, null, 2));
  writeFileSync(join(building, HASH_FILE), hash);
  rmSync(assemblyDir, { recursive: true, force: true });
  renameSync(building, assemblyDir);
}

/** SHA-256 over the path and content of every file the assembly depends on. */
export function sourceHash(projectDir: string, pipelinesDir: string, stage: string): string {
  const hash = createHash('sha256').update(`stage=${stage}\n`);
  const add = (root: string, label: string) => {
    for (const file of listFiles(root)) {
      hash.update(`${label}/${relative(root, file)}\n`).update(readFileSync(file)).update('\n');
    }
  };
  for (const source of PACKAGE_SOURCES) add(join(PACKAGE_DIR, source), `sluice/${source}`);
  for (const source of PROJECT_SOURCES) add(join(projectDir, source), `project/${source}`);
  add(pipelinesDir, 'pipelines');
  return hash.digest('hex');
}

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => !SKIPPED.has(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => listFiles(join(path, entry.name)));
}
