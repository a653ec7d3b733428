import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { build, type Plugin } from 'esbuild';
import type { PipelineDefinition } from '../definitions/pipeline';
import { compilePipeline } from '../compile/compile';
import { PipelineValidationError, type ValidationIssue } from '../compile/errors';
import type { CompiledPipeline } from '../compile/model';
import { upstreamGraphIssues } from '../compile/upstream';
import { importUserModule } from './import-user-module';
import { SOURCE_CONDITIONS } from '../package-files';

/** A pipeline found on disk, compiled, with its handler files resolved. */
export interface LoadedPipeline {
  /** Absolute path of its `pipeline.ts`. */
  readonly file: string;
  /** Folder of `pipeline.ts`; handler paths are relative to it. */
  readonly dir: string;
  readonly definition: PipelineDefinition;
  readonly compiled: CompiledPipeline;
  /** Absolute path of each task's handler file, by task name. */
  readonly handlers: Readonly<Record<string, string>>;
}

/** Where pipelines are discovered: `$SLUICE_PIPELINES`, or `pipelines/` in the working folder. */
export function pipelinesDir(): string {
  return resolve(process.env.SLUICE_PIPELINES ?? 'pipelines');
}

/** Handler files may be written in any of these; a path without extension is tried with each. */
const HANDLER_EXTENSIONS = ['', '.ts', '.mts', '.js', '.mjs'];

/**
 * Imports and compiles every `DIR/<folder>/pipeline.ts` (default export), checks that each
 * task's handler file exists, exports `handler` and imports only what resolves, and checks the
 * graph of pipelines that run after others (`upstream`).
 *
 * @throws PipelineValidationError listing the problems of every pipeline at once
 */
export async function loadPipelines(dir: string): Promise<LoadedPipeline[]> {
  const { pipelines, issues } = await discoverPipelines(dir);
  if (issues.length > 0) throw new PipelineValidationError([...issues]);
  return [...pipelines];
}

/** What {@link discoverPipelines} found: the valid pipelines, and the problems of the others. */
export interface DiscoveredPipelines {
  readonly pipelines: readonly LoadedPipeline[];
  /** Problems of the pipelines left out of `pipelines`, each naming its pipeline (or file). */
  readonly issues: readonly ValidationIssue[];
  /** Pipelines left out only because they run after one that is (no problem of their own). */
  readonly blocked: readonly ValidationIssue[];
}

/**
 * Loads every pipeline of `dir` as {@link loadPipelines} does, keeping the valid ones apart from
 * the broken ones, so that a command about one pipeline is not stopped by a typo in another.
 *
 * @throws PipelineValidationError only when the folder itself does not exist
 */
export async function discoverPipelines(dir: string): Promise<DiscoveredPipelines> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new PipelineValidationError([
      {
        pipeline: dir,
        message: `the pipelines folder ${dir} does not exist`,
        fix: 'create it with one folder per pipeline holding a pipeline.ts, or point SLUICE_PIPELINES / --pipelines at it',
      },
    ]);
  }
  const files = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(dir, entry.name, 'pipeline.ts'))
    .filter((file) => existsSync(file))
    .sort();

  const issues: ValidationIssue[] = [];
  const loaded: LoadedPipeline[] = [];
  const fileByName = new Map<string, string>();
  for (const file of files) {
    const result = await loadPipeline(file);
    if ('issues' in result) {
      issues.push(...result.issues);
      continue;
    }
    const name = result.pipeline.definition.name;
    const twin = fileByName.get(name);
    if (twin) {
      issues.push({
        pipeline: name,
        message: `duplicate pipeline name, declared by ${twin} and ${file}`,
        fix: 'give each pipeline a unique name',
      });
      continue;
    }
    fileByName.set(name, file);
    loaded.push(result.pipeline);
  }
  // Across pipelines: unknown upstreams, mappings that do not fit, cycles.
  issues.push(...upstreamGraphIssues(loaded.map((p) => p.definition)));
  const { pipelines, blocked } = leaveOut(loaded, issues);
  return { pipelines, issues, blocked };
}

/**
 * The pipelines without those named by `issues`, and without those that run after one left out
 * (in turn): each of the latter is reported in `blocked`, naming the upstream to fix.
 */
export function leaveOut(pipelines: readonly LoadedPipeline[], issues: readonly ValidationIssue[]): { pipelines: LoadedPipeline[]; blocked: ValidationIssue[] } {
  const broken = new Set(issues.map((issue) => issue.pipeline));
  let valid = pipelines.filter((p) => !broken.has(p.definition.name));
  const blocked: ValidationIssue[] = [];
  for (;;) {
    const names = new Set(valid.map((p) => p.definition.name));
    const stranded = valid.filter((p) => Object.keys(p.definition.upstream ?? {}).some((u) => !names.has(u)));
    if (stranded.length === 0) return { pipelines: valid, blocked };
    for (const p of stranded) {
      const missing = Object.keys(p.definition.upstream ?? {}).filter((u) => !names.has(u));
      blocked.push({
        pipeline: p.definition.name,
        message: `it runs after ${missing.map((u) => `"${u}"`).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} left out for ${missing.length === 1 ? 'its' : 'their'} problems`,
        fix: `fix ${missing.length === 1 ? 'that pipeline' : 'those pipelines'} (sluice validate lists the problems)`,
      });
    }
    valid = valid.filter((p) => !stranded.includes(p));
  }
}

async function loadPipeline(file: string): Promise<{ pipeline: LoadedPipeline } | { issues: ValidationIssue[] }> {
  const dir = dirname(file);
  let definition: PipelineDefinition;
  try {
    const module = await importUserModule<{ default?: PipelineDefinition }>(file);
    if (module.default?.kind !== 'pipeline') {
      return {
        issues: [{ pipeline: file, message: 'pipeline.ts has no default export made by pipeline()', fix: 'end the file with `export default pipeline({ ... })`' }],
      };
    }
    definition = module.default;
  } catch (error) {
    return {
      issues: [{ pipeline: file, message: `pipeline.ts could not be loaded: ${(error as Error).message}`, fix: 'fix the error in the file' }],
    };
  }

  const issues: ValidationIssue[] = [];
  let compiled: CompiledPipeline | undefined;
  try {
    compiled = compilePipeline(definition);
  } catch (error) {
    if (!(error instanceof PipelineValidationError)) throw error;
    issues.push(...error.issues);
  }

  const handlers: Record<string, string> = {};
  for (const [name, t] of Object.entries(definition.tasks ?? {})) {
    if (typeof t?.handler !== 'string' || t.handler.trim() === '') continue;
    const check = await checkHandler(dir, t.handler);
    if ('path' in check) handlers[name] = check.path;
    else issues.push({ pipeline: definition.name, task: name, ...check });
  }

  if (issues.length > 0 || !compiled) return { issues };
  return { pipeline: Object.freeze({ file, dir, definition, compiled, handlers: Object.freeze(handlers) }) };
}

/**
 * Resolves a handler path and reads its exports with esbuild, without running it. Every import
 * the handler's own files make is resolved as the bundler will resolve it, so a package that is
 * not installed is reported here in one line rather than by a page of bundler output at synth;
 * packages themselves are not parsed (they are external to this check).
 */
async function checkHandler(dir: string, handler: string): Promise<{ path: string } | { message: string; fix: string }> {
  const base = resolve(dir, handler);
  const path = HANDLER_EXTENSIONS.map((ext) => base + ext).find((p) => existsSync(p) && statSync(p).isFile());
  if (!path) {
    return {
      message: `handler file ${handler} does not exist (looked for ${base})`,
      fix: 'create it, or correct the path: handler paths are relative to the folder of pipeline.ts',
    };
  }
  const unresolved: string[] = [];
  let exports: string[];
  try {
    const result = await build({
      entryPoints: [path],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
      conditions: [...SOURCE_CONDITIONS],
      plugins: [externalPackages(unresolved)],
    });
    exports = Object.values(result.metafile.outputs).flatMap((output) => output.exports);
  } catch (error) {
    const errors = (error as { errors?: { text: string; location?: { file: string; line: number } | null }[] }).errors ?? [];
    const missing = errors.map((e) => /^Could not resolve "(.+)"/.exec(e.text)?.[1]).filter((m): m is string => m !== undefined);
    if (unresolved.length > 0 || missing.length > 0) {
      const names = [...new Set([...unresolved, ...missing])];
      return {
        message: `handler file ${handler} imports ${names.map((n) => `"${n}"`).join(', ')}, which do${names.length === 1 ? 'es' : ''} not resolve`,
        fix: `install ${names.length === 1 ? 'it' : 'them'} (npm install --save-exact ${names.filter((n) => !n.startsWith('.')).join(' ') || '...'}) or correct the import path`,
      };
    }
    const first = errors[0];
    const where = first?.location ? ` (${first.location.file}:${first.location.line})` : '';
    return { message: `handler file ${handler} does not compile: ${first?.text ?? (error as Error).message}${where}`, fix: 'fix the syntax error' };
  }
  if (!exports.includes('handler')) {
    return {
      message: `handler file ${handler} does not export "handler" (it exports: ${exports.join(', ') || 'nothing'})`,
      fix: 'add `export const handler = async (event) => { ... }`',
    };
  }
  return { path };
}

/** Marks every package import external once it resolves, recording those that do not. */
function externalPackages(unresolved: string[]): Plugin {
  return {
    name: 'external-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'checking' || args.path.startsWith('node:')) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'checking' });
        if (found.errors.length > 0) {
          unresolved.push(args.path);
          return { errors: [{ text: `Could not resolve "${args.path}"` }] };
        }
        return { path: args.path, external: true };
      });
    },
  };
}
