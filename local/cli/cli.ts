import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type CliContext, type GlobalOptions, resolveContext } from './context';
import { describeError, EXIT, exitCodeOf } from './errors';
import { type CliIo, processIo } from './io';
import { packageFile } from '../../lib/package-files';

const HELP_FOOTER = `
Environment:
  SLUICE_HOME                local state: synthesized assembly, DynamoDB and S3 data, executions (default: .sluice/ of the project)
  SLUICE_PIPELINES           where pipelines are discovered, DIR/*/pipeline.ts (default: pipelines/ of the project)
  SLUICE_RETRY_INTERVAL_MS   a fixed wait before every task retry, instead of the retry policy's backoff (tests, quick iteration)
  SLUICE_SERVICES_IDLE_MS    how long the local services outlive the last command using them (default: 30000)
  SLUICE_WAIT_INTERVAL_MS    a fixed wait between the checks of every sensor, instead of its intervalSeconds (tests, quick iteration)

  AWS_PROFILE                with --stage: the credentials, from the AWS SDK's default chain (AWS_ENDPOINT_URL_<SERVICE> overrides an endpoint)

Exit codes: 0 success; 1 a run or validation failed; 2 bad usage or input.
Commands on one SLUICE_HOME share one background process serving its DynamoDB and S3, started by the
first and stopped when idle (SLUICE_SERVICES_IDLE_MS, default 30000); any number may run at once.`;

const STAGE_OPTION = 'act on this deployed stage of sluice.config.ts through the AWS SDK (default credentials, the stage\'s region) instead of the local runtime';

/**
 * Runs the `sluice` command line (arguments without `node` and the script) and returns its exit
 * code. Every failure is reported on `io.err`, never thrown.
 */
export async function runCli(args: readonly string[], io: CliIo = processIo()): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('sluice')
    .description('Run sluice pipelines locally: the same cdk.out that deploys, on embedded stand-ins of AWS')
    .option('--pipelines <dir>', 'where pipelines are discovered (default: $SLUICE_PIPELINES or pipelines/ of the project)')
    .option('--json', 'print machine-readable JSON')
    .option('--verbose', "print the functions' logs on stderr instead of $SLUICE_HOME/functions.log")
    .version(packageVersion(), '-V, --version', 'print the version of sluice')
    .showHelpAfterError('(run sluice --help for usage)')
    .addHelpText('after', HELP_FOOTER)
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err, outputError: (text, write) => write(text) });

  const context = (command: Command): CliContext => resolveContext(command.optsWithGlobals<GlobalOptions>(), io);
  const action =
    <A extends unknown[]>(handler: (context: CliContext, ...args: A) => Promise<number>) =>
    async (...args: unknown[]) => {
      const command = args.at(-1) as Command;
      code = await handler(context(command), ...(args.slice(0, -1) as A));
    };

  program
    .command('list')
    .description('pipelines with their partitions, schedule and triggers (reads definitions only: fast)')
    .action(action(async (ctx) => (await import('./commands/list')).list(ctx)));

  program
    .command('validate')
    .description('load and compile every pipeline; exit 1 listing every problem')
    .action(action(async (ctx) => (await import('./commands/validate')).validate(ctx)));

  program
    .command('run')
    .description('run one partition now through the launcher, wait, and print every task attempt')
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .option('--partition <key>', 'partition key (default: the last complete time partition; required for static partitions)')
    .addOption(
      new Option('--param <name=value>', 'a run parameter (repeat for more); the others take their defaults').argParser(
        (value: string, previous: string[] = []) => [...previous, value],
      ),
    )
    .action(action(async (ctx, name: string, options: { partition?: string; param?: string[] }) => (await import('./commands/run')).run(ctx, name, options)));

  program
    .command('rerun')
    .description("a new run of an ended run's partition: re-runs its failed tasks (or those chosen), reusing the others' results")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<run-id>', 'the run to repeat (from sluice runs)')
    .option('--from-task <task>', 're-run this task and everything downstream of it')
    .option('--tasks <a,b>', 're-run exactly these tasks (and any task without a recorded result)')
    .action(action(async (ctx, runId: string, options: { fromTask?: string; tasks?: string }) => (await import('./commands/rerun')).rerun(ctx, runId, options)));

  program
    .command('logs')
    .description("what a run's task attempts printed, line by line with task and attempt")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<run-id>', 'the run (from sluice runs)')
    .option('--task <task>', 'only this task')
    .addOption(new Option('--attempt <n>', 'only this try of the task (1 = the first)').argParser(positiveInteger))
    .option('--follow', 'keep printing new lines until the run ends')
    .action(action(async (ctx, runId: string, options: { task?: string; attempt?: number; follow?: boolean }) => (await import('./commands/logs')).logs(ctx, runId, options)));

  program
    .command('status')
    .description('partition statuses: MISSING, RUNNING, SUCCEEDED, FAILED')
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .option('--from <key>', 'first partition (default: the last 10 time partitions; every static key)')
    .option('--to <key>', 'last partition (default: the last complete one)')
    .option('--grid', 'one cell per partition (a calendar for daily partitions), also when not on a terminal')
    .action(
      action(async (ctx, name: string, options: { from?: string; to?: string; grid?: boolean }) => (await import('./commands/status')).status(ctx, name, options)),
    );

  program
    .command('runs')
    .description('recent runs, newest first, with status, duration and error')
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .addOption(new Option('--limit <n>', 'how many runs').default(20).argParser(positiveInteger))
    .action(action(async (ctx, name: string, options: { limit: number }) => (await import('./commands/runs')).runs(ctx, name, options)));

  program
    .command('backfill')
    .description('run a range of partitions through the pipeline\'s backfill state machine; live progress on a terminal, Ctrl-C offers to cancel')
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .option('--from <key>', 'first partition (default: the first partition of the pipeline)')
    .option('--to <key>', 'last partition (default: the last complete one)')
    .addOption(new Option('--only <which>', 'which partitions of the range run').choices(['missing', 'failed', 'missing,failed', 'all']).default('missing,failed'))
    .addOption(new Option('--concurrency <n>', 'runs in flight at most').default(1).argParser(positiveInteger))
    .option('--yes', 'confirm a range of more than 10,000 partitions')
    .option('--no-downstream', 'do not start the pipelines that run after this one (they run by default, partition by partition)')
    .action(
      action(async (ctx, name: string, options: { from?: string; to?: string; only: 'missing' | 'failed' | 'missing,failed' | 'all'; concurrency: number; yes?: boolean; downstream: boolean }) =>
        (await import('./commands/backfill')).backfill(ctx, name, options),
      ),
    );

  program
    .command('backfills')
    .description("a pipeline's backfills, newest first, with their progress; --cancel one")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .option('--cancel <id>', 'cancel this backfill: no new run starts, runs in flight finish')
    .option('--stop', 'with --cancel: stop the runs in flight too (only from the process running the backfill, or on AWS)')
    .addOption(new Option('--limit <n>', 'how many backfills').default(20).argParser(positiveInteger))
    .action(
      action(async (ctx, name: string, options: { cancel?: string; stop?: boolean; limit: number }) =>
        (await import('./commands/backfills')).backfills(ctx, name, options),
      ),
    );

  program
    .command('schedules')
    .description("every pipeline's schedule with its time zone, next tick and state (ENABLED or PAUSED)")
    .option('--stage <name>', STAGE_OPTION)
    .action(action(async (ctx) => (await import('./commands/schedules')).schedules(ctx)));

  program
    .command('pause')
    .description("stop a pipeline's schedule; ticks it misses are not made up on resume")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .action(action(async (ctx, name: string) => (await import('./commands/schedules')).setState(ctx, name, 'PAUSED')));

  program
    .command('resume')
    .description("restart a pipeline's paused schedule")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .action(action(async (ctx, name: string) => (await import('./commands/schedules')).setState(ctx, name, 'ENABLED')));

  program
    .command('tick')
    .description("fire one tick of a pipeline's schedule as it would have at TIME; waits for the runs it starts")
    .option('--stage <name>', STAGE_OPTION)
    .argument('<pipeline>', 'pipeline name')
    .option('--at <time>', 'ISO-8601 instant of the tick (default: now)')
    .action(action(async (ctx, name: string, options: { at?: string }) => (await import('./commands/schedules')).tick(ctx, name, options)));

  program
    .command('dev')
    .description('serve S3 and DynamoDB on loopback with the triggers and schedules of every pipeline, until Ctrl+C')
    .option('--port <n>', 'S3 on port N and DynamoDB on N+1 (default: free ports)')
    .option('--ui-port <n>', 'the web console on 127.0.0.1:N (default: a free port)')
    .option('--no-ui', 'serve no web console')
    .action(action(async (ctx, options: { port?: string; uiPort?: string; ui?: boolean }) => (await import('./commands/dev')).dev(ctx, options)));

  program
    .command('ui')
    .description('the web console on 127.0.0.1 (the URL it prints carries an access token), until Ctrl+C')
    .option('--stage <name>', STAGE_OPTION)
    .option('--port <n>', 'port of the console (default: a free port)')
    .action(action(async (ctx, options: { port?: string }) => (await import('./commands/ui')).ui(ctx, options)));

  program
    .command('init')
    .description('create a sluice project (package.json, cdk.json, sluice.config.ts, an example pipeline and its test) in dir')
    .argument('[dir]', 'the new project\'s folder (default: the working folder)')
    .action(action(async (ctx, dir: string | undefined) => (await import('./commands/init')).init(ctx, dir)));

  program
    .command('cdk-app')
    .description("the project's CDK app, for cdk.json (\"app\": \"npx sluice cdk-app\"): every stage of sluice.config.ts, every pipeline")
    .action(action(async (ctx) => (await import('./commands/cdk-app')).cdkApp(ctx)));

  // Started in the background by the other commands (see useSharedServices); not for users.
  program
    .command('services', { hidden: true })
    .requiredOption('--home <dir>')
    .requiredOption('--idle-ms <ms>', '', positiveIntegerOrZero)
    .option('--s3-port <n>', '', positiveIntegerOrZero)
    .option('--dynamodb-port <n>', '', positiveIntegerOrZero)
    .action(async (options: { home: string; idleMs: number; s3Port?: number; dynamodbPort?: number }) => {
      const { hostSharedServices } = await import('../services/shared-host');
      await hostSharedServices({ home: options.home, idleMs: options.idleMs, ports: { s3: options.s3Port, dynamodb: options.dynamodbPort } });
    });

  try {
    await program.parseAsync(args, { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version were printed on request: that is a success.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const exit = exitCodeOf(error);
    io.err(`${describeError(error, exit)}\n`);
    return exit;
  }
}

function packageVersion(): string {
  const file = packageFile('package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1.');
  return n;
}

function positiveIntegerOrZero(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number.');
  return n;
}
