import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import type { PipelineDefinition } from '../definitions/pipeline';
import { compilePipeline } from '../compile/compile';
import { PipelineValidationError, type ValidationIssue } from '../compile/errors';
import type { CompiledPipeline } from '../compile/model';
import { upstreamGraphIssues } from '../compile/upstream';

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
 * task's handler file exists and exports `handler`, and checks the graph of pipelines that run
 * after others (`upstream`).
 *
 * @throws PipelineValidationError listing the problems of every pipeline at once
 */
export async function loadPipelines(dir: string): Promise<LoadedPipeline[]> {
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
  if (issues.length > 0) throw new PipelineValidationError(issues);
  return loaded;
}

async function loadPipeline(file: string): Promise<{ pipeline: LoadedPipeline } | { issues: ValidationIssue[] }> {
  const dir = dirname(file);
  let definition: PipelineDefinition;
  try {
    const module = (await import(pathToFileURL(file).href)) as { default?: PipelineDefinition };
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
    const check = checkHandler(dir, t.handler);
    if ('path' in check) handlers[name] = check.path;
    else issues.push({ pipeline: definition.name, task: name, ...check });
  }

  if (issues.length > 0 || !compiled) return { issues };
  return { pipeline: Object.freeze({ file, dir, definition, compiled, handlers: Object.freeze(handlers) }) };
}

/** Resolves a handler path and reads its exports with esbuild, without running it. */
function checkHandler(dir: string, handler: string): { path: string } | { message: string; fix: string } {
  const base = resolve(dir, handler);
  const path = HANDLER_EXTENSIONS.map((ext) => base + ext).find((p) => existsSync(p) && statSync(p).isFile());
  if (!path) {
    return {
      message: `handler file ${handler} does not exist (looked for ${base})`,
      fix: 'create it, or correct the path: handler paths are relative to the folder of pipeline.ts',
    };
  }
  let exports: string[];
  try {
    const result = buildSync({ entryPoints: [path], bundle: false, write: false, metafile: true, format: 'esm', logLevel: 'silent' });
    exports = Object.values(result.metafile.outputs).flatMap((output) => output.exports);
  } catch (error) {
    return { message: `handler file ${handler} does not compile: ${(error as Error).message}`, fix: 'fix the syntax error' };
  }
  if (!exports.includes('handler')) {
    return {
      message: `handler file ${handler} does not export "handler" (it exports: ${exports.join(', ') || 'nothing'})`,
      fix: 'add `export const handler = async (event) => { ... }`',
    };
  }
  return { path };
}
