import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findProjectDir, PROJECT_CONFIG_FILE } from '../../lib/loader/project-config';
import type { LocalRuntime, LocalRuntimeProps } from '../runtime';
import type { SynthLocalResult } from '../synth';
import { UsageError } from './errors';
import { captureFunctionOutput, type CliIo } from './io';

/** Options every command accepts. */
export interface GlobalOptions {
  readonly pipelines?: string;
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly stage?: string;
}

/** What a command runs against, resolved once from options and environment. */
export interface CliContext {
  readonly io: CliIo;
  /**
   * The project: the nearest folder at or above the working folder holding a `sluice.config.ts`;
   * else the folder of the nearest package.json (whose commands then say how to create a project).
   */
  readonly projectDir: string;
  /** `--pipelines`, else `$SLUICE_PIPELINES`, else `pipelines/` of the project the command runs in. */
  readonly pipelinesDir: string;
  /** `$SLUICE_HOME`, else `.sluice/` of the project the command runs in. */
  readonly home: string;
  readonly json: boolean;
  /** Function logs to stderr instead of `<home>/functions.log`. */
  readonly verbose: boolean;
  /** `--stage NAME`: the deployed stage the command acts on, through the AWS SDK. @default - the local runtime */
  readonly stage?: string;
  /** `$SLUICE_RETRY_INTERVAL_MS`: a fixed wait before every retry, for tests and quick iteration. */
  readonly retryIntervalMs?: number;
  /** `$SLUICE_WAIT_INTERVAL_MS`: a fixed duration of every sensor's wait between checks. */
  readonly waitIntervalMs?: number;
}

/** ` --stage NAME` when the command targets a deployed stage, else nothing: for the commands a message suggests. */
export function stageOption(context: Pick<CliContext, 'stage'>): string {
  return context.stage === undefined ? '' : ` --stage ${context.stage}`;
}

/**
 * Refuses a command that reads the pipelines outside any project: no pipelines folder where the
 * command looks, and no project config to say where one is.
 */
export function requireProject(context: Pick<CliContext, 'projectDir' | 'pipelinesDir'>): void {
  if (existsSync(context.pipelinesDir) || existsSync(join(context.projectDir, PROJECT_CONFIG_FILE))) return;
  throw new UsageError(
    `no ${PROJECT_CONFIG_FILE} in ${context.projectDir} and no pipelines folder ${context.pipelinesDir}: run \`npx sluice init\` to create a project, or run sluice from one (or give --pipelines DIR)`,
  );
}

/** File that receives what task handlers print, unless `--verbose`. */
export const FUNCTION_LOG = 'functions.log';

export function resolveContext(options: GlobalOptions, io: CliIo, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CliContext {
  // The defaults are the project's, wherever inside it the command runs (a pipeline's folder);
  // paths the user gives are relative to where they typed them.
  const root = projectRoot(cwd);
  return {
    io,
    projectDir: findProjectDir(cwd) ?? root,
    pipelinesDir: options.pipelines ?? env.SLUICE_PIPELINES ? resolve(cwd, (options.pipelines ?? env.SLUICE_PIPELINES)!) : join(root, 'pipelines'),
    home: env.SLUICE_HOME ? resolve(cwd, env.SLUICE_HOME) : join(root, '.sluice'),
    json: options.json === true,
    verbose: options.verbose === true,
    ...(options.stage !== undefined && { stage: options.stage }),
    retryIntervalMs: milliseconds('SLUICE_RETRY_INTERVAL_MS', env.SLUICE_RETRY_INTERVAL_MS),
    waitIntervalMs: milliseconds('SLUICE_WAIT_INTERVAL_MS', env.SLUICE_WAIT_INTERVAL_MS),
  };
}

/** The nearest folder from `cwd` up that holds a `package.json`: the project; else `cwd`. */
export function projectRoot(cwd: string): string {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return resolve(cwd);
  }
}

function milliseconds(variable: string, value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new UsageError(`${variable} must be a whole number of milliseconds, not ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Starts the local runtime (attached to a live `sluice dev` on the same home, if any), runs `use`,
 * and stops the runtime whatever happens. Handlers' output goes to the function log meanwhile.
 */
export async function withRuntime<T>(
  context: CliContext,
  use: (runtime: LocalRuntime) => Promise<T>,
  props: Pick<LocalRuntimeProps, 'sharing' | 'ports' | 'notify' | 'warm'> = {},
): Promise<T> {
  const restore = captureFunctionOutput({ logFile: join(context.home, FUNCTION_LOG), verbose: context.verbose });
  try {
    const { LocalRuntime } = await import('../runtime');
    const runtime = await LocalRuntime.start(runtimeProps(context, props));
    const notices = startNotices(context);
    notices.synth(runtime.synth);
    notices.attached(runtime.attachedTo);
    try {
      return await use(runtime);
    } finally {
      await runtime.stop();
    }
  } finally {
    restore();
  }
}

/** What a command says as the local stage starts: that it synthesized, and whose services it uses. */
export function startNotices(context: CliContext): { synth(synth: SynthLocalResult): void; attached(pid: number | undefined): void } {
  return {
    synth: (synth) => {
      if (!synth.cached) context.io.err(`Synthesized the local stage into ${synth.assemblyDir} (sources changed)\n`);
    },
    attached: (pid) => {
      if (pid !== undefined) context.io.err(`Using the DynamoDB and S3 of sluice dev (pid ${pid}) on ${context.home}\n`);
    },
  };
}

/** The local runtime's properties for a command: the context's, and the command's own. */
export function runtimeProps(context: CliContext, props: Pick<LocalRuntimeProps, 'sharing' | 'ports' | 'notify' | 'warm'> = {}): LocalRuntimeProps {
  return {
    projectDir: context.projectDir,
    pipelinesDir: context.pipelinesDir,
    home: context.home,
    retryIntervalMs: context.retryIntervalMs,
    warn: (message) => context.io.err(`warning: ${message}\n`),
    waitIntervalMs: context.waitIntervalMs,
    ...props,
  };
}
