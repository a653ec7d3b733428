import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
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

/**
 * Files of the sluice package that shape the cloud assembly: its build, or the source folders the
 * CDK app and every function's bundle are made of (test/local/synth.test.ts checks the list).
 */
const PACKAGE_SOURCES = RUNS_FROM_BUILD ? ['dist', 'package.json'] : ['bin', 'lib', 'lambdas', 'orchestration', 'package-lock.json'];
/** Files of the project that shape it (the stages may import from `config/`). */
const PROJECT_SOURCES = [PROJECT_CONFIG_FILE, 'config', 'package-lock.json'];
const HASH_FILE = 'sluice-sources.sha256';
const BUILDS_DIR = 'builds';
/** The content hashes of a build's parts (see {@link BuildParts}). */
const PARTS_FILE = 'sluice-parts.json';
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

/** What the user is told of the pipelines a build left out: one line per pipeline. */
export function skippedPipelineWarnings(synth: Pick<SynthLocalResult, 'skipped'>): string[] {
  return [...new Set(synth.skipped.map((issue) => issue.pipeline))].map(
    (pipeline) => `pipeline "${pipeline}" is skipped: it has problems (sluice validate lists them); the other pipelines run`,
  );
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
  // (And the state machines' check loads the interpreter, which a cached start may not need.)
  const [{ loadProjectStages }, { discoverPipelines, leaveOut }, { createSluiceApp }, { selectStages, bucketIssues }, { loadStage }, { checkStateMachines }, { checkPipelines }] = await Promise.all([
    import('../lib/loader/project-config'),
    import('../lib/loader'),
    import('../lib/stacks/app'),
    import('../lib/stacks/stage-config'),
    import('./engine/assembly'),
    import('./engine/interpreted-machine'),
    import('./local-pipelines'),
  ]);
  const stages = await loadProjectStages(props.projectDir);
  const selected = selectStages(stages, stage);
  const discovered = await discoverPipelines(props.pipelinesDir);
  const unknown = selected.flatMap((config) => bucketIssues(config, discovered.pipelines.map((p) => p.compiled)));
  const { pipelines, blocked } = leaveOut(discovered.pipelines, unknown);
  const skipped = [...discovered.issues, ...discovered.blocked, ...unknown, ...blocked];
  const building = `${assemblyDir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  const parts = buildParts(props.projectDir, props.pipelinesDir);
  const previous = reusableBuild(assemblyDir, parts);
  // Only the stacks of the pipelines whose handlers changed are bundled; the others are the
  // previous build's (their templates and bundles cannot differ: nothing they are made of did).
  const rebuilt = previous && pipelines.filter((p) => previous.changed.has(relative(props.pipelinesDir, p.dir)));
  const bundled = rebuilt?.map((p) => `${stage}/Pipeline-${p.compiled.name}`);
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
    ...(bundled && { context: { 'aws:cdk:bundling-stacks': bundled } }),
  });
  app.synth();
  if (previous && bundled) reuseStacks(previous.dir, building, bundled);
  try {
    const built = loadStage(building, stage);
    await checkStateMachines(built);
    await checkPipelines(built);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(join(building, PARTS_FILE), JSON.stringify(parts));
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

/**
 * What a build is made of, hashed in two parts, so that an edit of a pipeline's handlers rebuilds
 * that pipeline alone: `folders` hashes each pipeline folder's files other than its
 * `pipeline.ts` (the code its functions bundle), `shared` everything else (sluice, the stage
 * configuration, every `pipeline.ts`, code shared between pipelines), which any stack may depend on.
 */
interface BuildParts {
  readonly shared: string;
  readonly folders: Readonly<Record<string, string>>;
}

function buildParts(projectDir: string, pipelinesDir: string): BuildParts {
  const shared = createHash('sha256');
  const folders = new Map<string, ReturnType<typeof createHash>>();
  for (const { path, label } of sourceRoots(projectDir, pipelinesDir)) {
    for (const file of listFiles(path)) {
      const inside = relative(path, file);
      const [folder, ...rest] = inside.split(sep);
      const own = label === 'pipelines' && rest.length > 0 && inside !== join(folder!, 'pipeline.ts') && existsSync(join(path, folder!, 'pipeline.ts'));
      const hash = own ? (folders.get(folder!) ?? folders.set(folder!, createHash('sha256')).get(folder!)!) : shared;
      hash.update(`${label}/${inside}\n`).update(readFileSync(file)).update('\n');
    }
  }
  return { shared: shared.digest('hex'), folders: Object.fromEntries([...folders].map(([folder, hash]) => [folder, hash.digest('hex')])) };
}

/** The current build, when the new one differs from it only in some pipeline folders' handlers. */
function reusableBuild(assemblyDir: string, parts: BuildParts): { dir: string; changed: Set<string> } | undefined {
  const file = join(assemblyDir, PARTS_FILE);
  if (!existsSync(file)) return undefined;
  const before = readJsonFile<BuildParts>(file);
  const folders = Object.keys(parts.folders);
  if (before.shared !== parts.shared || folders.length !== Object.keys(before.folders).length) return undefined;
  if (folders.some((folder) => before.folders[folder] === undefined)) return undefined;
  const changed = new Set(folders.filter((folder) => before.folders[folder] !== parts.folders[folder]));
  return changed.size > 0 ? { dir: realpathSync(assemblyDir), changed } : undefined;
}

/**
 * Puts the previous build's template, asset manifest and bundles in place of those of every stack
 * of `building` that was not bundled (`bundled`: construct paths such as `local/Pipeline-drops`).
 */
function reuseStacks(previousDir: string, building: string, bundled: readonly string[]): void {
  // An artifact id is the stack's construct path without its non-alphanumerics, and a hash.
  const ids = bundled.map((path) => new RegExp(`^${path.replace(/[^A-Za-z0-9]/g, '')}[0-9A-F]{8}$`));
  for (const nested of readdirSync(building).filter((entry) => entry.startsWith('assembly-'))) {
    const dir = join(building, nested);
    for (const templateFile of readdirSync(dir).filter((file) => file.endsWith('.template.json'))) {
      const artifactId = templateFile.slice(0, -'.template.json'.length);
      if (ids.some((id) => id.test(artifactId))) continue;
      for (const file of [templateFile, `${artifactId}.assets.json`]) {
        const from = join(previousDir, nested, file);
        if (existsSync(from)) cpSync(from, join(dir, file));
      }
      const manifest = join(previousDir, nested, `${artifactId}.assets.json`);
      if (!existsSync(manifest)) continue;
      const files = (readJsonFile<{ files?: Record<string, { source: { path?: string } }> }>(manifest).files ?? {});
      for (const asset of Object.values(files)) {
        if (!asset.source.path) continue;
        const source = resolve(previousDir, nested, asset.source.path);
        const target = resolve(dir, asset.source.path);
        if (!existsSync(target)) cpSync(source, target, { recursive: true });
      }
    }
  }
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
    ...packageSources().map((source) => ({ path: join(PACKAGE_DIR, source), label: `sluice/${source}` })),
    ...PROJECT_SOURCES.map((source) => ({ path: join(projectDir, source), label: `project/${source}` })),
    { path: pipelinesDir, label: 'pipelines' },
  ];
}

/**
 * {@link PACKAGE_SOURCES}, with sluice's build read as its entries but its type declarations
 * (`dist/types`): they shape no build, and are half the files every command's start would hash.
 */
function packageSources(): string[] {
  if (!RUNS_FROM_BUILD) return PACKAGE_SOURCES;
  return PACKAGE_SOURCES.flatMap((source) => (source === 'dist' ? readdirSync(join(PACKAGE_DIR, source)).filter((entry) => entry !== 'types').sort().map((entry) => `${source}/${entry}`) : [source]));
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
