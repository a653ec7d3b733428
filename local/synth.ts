import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
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
  /** Local state directory; the assembly is written under `<home>/builds/` and named by `<home>/cdk.out`. */
  readonly home: string;
  /** The stage to synthesize. @default 'local' */
  readonly stage?: string;
}

/** Outcome of {@link synthLocalStage}. */
export interface SynthLocalResult {
  /** The cloud assembly directory as users know it: `<home>/cdk.out`, which names the latest build. */
  readonly assemblyDir: string;
  /**
   * The build itself, `<home>/builds/<id>`: never changed once written, so a process that loaded
   * it (a `sluice dev` that has not reloaded yet, a run in flight) keeps working while a newer
   * build replaces `cdk.out`.
   */
  readonly buildDir: string;
  /** Short name of the build, printed when a run starts: the first characters of {@link hash}. */
  readonly build: string;
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
const BUILDS_DIR = 'builds';
/** A build's users: a file per process that loaded it, named by its pid. */
const USERS_DIR = '.users';
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
  const result = (cached: boolean): SynthLocalResult => {
    const buildDir = realpathSync(assemblyDir);
    const skipped = existsSync(join(buildDir, SKIPPED_FILE)) ? readJsonFile<ValidationIssue[]>(join(buildDir, SKIPPED_FILE)) : [];
    // Marks the build used by this process until it ends, so that no later synth removes it.
    if (buildDir !== assemblyDir) {
      mkdirSync(join(buildDir, USERS_DIR), { recursive: true });
      writeFileSync(join(buildDir, USERS_DIR, String(process.pid)), '');
    }
    return { assemblyDir, buildDir, build: hash.slice(0, 8), cached, hash, skipped };
  };
  if (current()) return result(true);
  // One synth at a time per home: a second command waits, then finds the assembly current.
  return withLock(join(props.home, SYNTH_LOCK), async () => {
    if (current()) return result(true);
    await synthesize(props, stage, assemblyDir, hash);
    const built = result(false);
    removeUnusedBuilds(props.home, built.buildDir);
    return built;
  });
}

/** Removes the builds no live process uses, except `keep`. */
function removeUnusedBuilds(home: string, keep: string): void {
  const builds = join(home, BUILDS_DIR);
  for (const entry of readdirSync(builds)) {
    const dir = join(builds, entry);
    if (dir === keep) continue;
    const users = join(dir, USERS_DIR);
    const live = existsSync(users) && readdirSync(users).some((pid) => processExists(Number(pid)));
    if (!live) rmSync(dir, { recursive: true, force: true });
  }
}

/** Folders and links of builds whose process is gone (a crash, Ctrl+C during synth). */
function removeInterruptedBuilds(home: string): void {
  for (const entry of readdirSync(home)) {
    const pid = /^cdk\.out\.(?:building|link)-(\d+)$/.exec(entry)?.[1];
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
  // CDK remembers in this process which assets it staged, and would not stage them again into
  // this build's folder (a second synth in one process: `sluice dev` reloading).
  const { AssetStaging } = await import('aws-cdk-lib');
  AssetStaging.clearAssetHashCache();
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
  // The build moves to a folder of its own, and `cdk.out` is switched to it in one rename.
  const id = `${hash.slice(0, 16)}-${Date.now().toString(36)}`;
  mkdirSync(join(props.home, BUILDS_DIR), { recursive: true });
  renameSync(building, join(props.home, BUILDS_DIR, id));
  const link = `${assemblyDir}.link-${process.pid}`;
  rmSync(link, { force: true });
  symlinkSync(join(BUILDS_DIR, id), link);
  // A `cdk.out` folder of an older sluice is replaced, not followed.
  if (existsSync(assemblyDir) && !lstatSync(assemblyDir).isSymbolicLink()) rmSync(assemblyDir, { recursive: true, force: true });
  renameSync(link, assemblyDir);
}

/** SHA-256 over the path and content of every file the assembly depends on. */
export function sourceHash(projectDir: string, pipelinesDir: string, stage: string): string {
  const hash = createHash('sha256').update(`stage=${stage}\n`);
  for (const { path, label } of sourceRoots(projectDir, pipelinesDir)) {
    for (const file of listFiles(path)) {
      hash.update(`${label}/${relative(path, file)}\n`).update(readFileSync(file)).update('\n');
    }
  }
  return hash.digest('hex');
}

/**
 * The files and folders a local build is made of: sluice's own (its sources, or its build), the
 * project's stage configuration, and the pipelines. Folders are read recursively, without
 * `node_modules`, `cdk.out`, `.sluice` and `.git`.
 */
export function sourceRoots(projectDir: string, pipelinesDir: string): { readonly path: string; readonly label: string }[] {
  return [
    ...PACKAGE_SOURCES.map((source) => ({ path: join(PACKAGE_DIR, source), label: `sluice/${source}` })),
    ...PROJECT_SOURCES.map((source) => ({ path: join(projectDir, source), label: `project/${source}` })),
    { path: pipelinesDir, label: 'pipelines' },
  ];
}

/** Whether a path below a source root is left out of the build's sources. */
export function isIgnoredSource(relativePath: string): boolean {
  return relativePath.split(/[\\/]/).some((segment) => SKIPPED.has(segment));
}

function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (statSync(path).isFile()) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((entry) => !SKIPPED.has(entry.name))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => listFiles(join(path, entry.name)));
}
