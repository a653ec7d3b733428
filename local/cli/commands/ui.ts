import type { LocalRuntime } from '../../runtime';
import type { ConsoleServer, ConsoleSource, ReloadingConsoleSource } from '../../ui';
import { type CliContext, withRuntime } from '../context';
import { EXIT, UsageError } from '../errors';
import { untilStopped } from '../signals';

/** Options of `sluice ui`. */
export interface UiOptions {
  /** Port of the console on 127.0.0.1. @default - a free port */
  readonly port?: string;
}

/**
 * `sluice ui`: the web console on 127.0.0.1 until SIGINT or SIGTERM, on the DynamoDB and S3 that
 * every command on the same home shares; with `--stage NAME`, on that deployed stage through the
 * operations `--stage` gives every command.
 */
export async function ui(context: CliContext, options: UiOptions): Promise<number> {
  const port = parseConsolePort(options.port, '--port');
  const serve = async (server: ConsoleServer) => {
    printConsoleUrl(context, server);
    const signal = await untilStopped();
    await server.stop();
    if (!context.json) context.io.out(`${signal}: console stopped\n`);
    return EXIT.ok;
  };
  if (context.stage !== undefined) return serve(await startConsoleServing(context, await stageSource(context.projectDir, context.stage), port));
  return withRuntime(context, async (runtime) => serve(await startConsole(context, runtime, port)));
}

/** The console's data and actions on a deployed stage, through the operations of `--stage`. */
async function stageSource(projectDir: string, name: string): Promise<ConsoleSource> {
  const { resolveDeployedStage } = await import('../../operations/deployed-stage');
  const { DeployedOperations } = await import('../../operations/deployed-operations');
  const { StageConsoleSource, stepFunctionsConsoleUrl } = await import('../../ui');
  const stage = await resolveDeployedStage(projectDir, name);
  const operations = await DeployedOperations.open(stage);
  // Reaching the stage once before serving: not deployed or no credentials is one line, exit 2.
  await operations.pipelineNames();
  return new StageConsoleSource(operations, stage.name, (arn) => stepFunctionsConsoleUrl(stage.region, arn));
}

/** A running console whose pages `sluice dev` can move to a new build's runtime. */
export type ReloadableConsole = ConsoleServer & { readonly source: ReloadingConsoleSource };

/** Starts the web console over a local runtime (also used by `sluice dev`). */
export async function startConsole(context: CliContext, runtime: LocalRuntime, port: number | undefined): Promise<ReloadableConsole> {
  const { ReloadingConsoleSource } = await import('../../ui');
  const source = new ReloadingConsoleSource(await consoleSourceFor(context, runtime));
  return Object.assign(await startConsoleServing(context, source.source, port), { source });
}

/** Serves the console over `source` on 127.0.0.1; a port in use is bad input. */
async function startConsoleServing(context: CliContext, source: ConsoleSource, port: number | undefined): Promise<ConsoleServer> {
  const { startConsoleServer } = await import('../../ui');
  try {
    return await startConsoleServer({
      source,
      port,
      onError: (error) => context.io.err(`console: ${(error as Error).stack ?? String(error)}\n`),
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    throw new UsageError(`port ${port} of 127.0.0.1 is in use: give the console another one, or none for a free one`);
  }
}

/** The console's data and actions on a local runtime. */
export async function consoleSourceFor(context: CliContext, runtime: LocalRuntime): Promise<ConsoleSource> {
  const { LocalConsoleSource } = await import('../../ui');
  return new LocalConsoleSource(runtime, { pipelinesDir: context.pipelinesDir, home: context.home });
}

/** Prints the console's address (with its token): `--json` as one `console` line. */
export function printConsoleUrl(context: CliContext, server: ConsoleServer): void {
  if (context.json) context.io.out(`${JSON.stringify({ event: 'console', url: server.url, port: server.port })}\n`);
  else context.io.out(`Console: ${server.url}\n(the token in this address is new at every start; keep it to yourself)\n`);
}

export function parseConsolePort(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`${option} must be a whole number from 0 to 65535 (0 picks a free port), not ${JSON.stringify(value)}`);
  }
  return port;
}
