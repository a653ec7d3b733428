import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository: the package's sources. */
export const repoDir = fileURLToPath(new URL('../..', import.meta.url));
/**
 * The example project: its `sluice.config.ts` names the stages the tests synthesize, and the CLI
 * is spawned from here, as `npx sluice` runs in a project.
 */
export const projectDir = join(repoDir, 'examples');
/** The `sluice` command of the package (what a project's `node_modules/.bin/sluice` runs). */
export const sluiceBin = join(repoDir, 'bin', 'sluice.js');
export const fixtures = fileURLToPath(new URL('./fixtures/pipelines', import.meta.url));
export const brokenFixtures = fileURLToPath(new URL('./fixtures/broken', import.meta.url));
/** Valid pipelines that `run` could not run: a bucket no stage has, an import that does not resolve. */
export const unresolvedFixtures = fileURLToPath(new URL('./fixtures/unresolved', import.meta.url));
/** Pipelines that exercise the local runtime itself: overlapping runs, timeouts. */
export const runtimeFixtures = fileURLToPath(new URL('./fixtures/runtime', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Environment of a CLI process: its own home, the fixture pipelines, fast retries, no colour. */
export function cliEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SLUICE_HOME: home, SLUICE_PIPELINES: fixtures, SLUICE_RETRY_INTERVAL_MS: '50', NO_COLOR: '1', ...extra };
}

/** Starts `bin/sluice.js` with `args` as a user would (through the project's Node.js). */
export function spawnSluice(args: readonly string[], env: NodeJS.ProcessEnv, cwd = projectDir): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [sluiceBin, ...args], { cwd, env });
}

/** Runs `sluice <args>` to completion. */
export function sluice(args: readonly string[], env: NodeJS.ProcessEnv, cwd = projectDir): Promise<CliResult> {
  const child = spawnSluice(args, env, cwd);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses the JSON a `--json` command printed, naming the command when it is not JSON. */
export function json<T>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout (exit ${result.code}), got:\n${result.stdout}\nstderr:\n${result.stderr}`);
  }
}

/** Lines of a stack trace: a command must never print one. */
export const STACK_FRAME = /^\s+at .+[:(]/m;
