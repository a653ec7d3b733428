import type { LocalRuntime, LocalRuntimeProps } from '../runtime';
import { sourceHash } from '../synth';
import type { ReloadingConsoleSource } from '../ui';
import { consoleSourceFor } from './commands/ui';
import type { CliContext } from './context';

/** Prints one `sluice dev` line: `notice` as a JSON line with `--json`, else `text`. */
export type DevPrint = (notice: Record<string, unknown>, text: string) => void;

/** Properties of {@link Reloader}. */
export interface ReloaderProps {
  readonly context: CliContext;
  /** The runtime `sluice dev` started with; its caller stops it. */
  readonly initial: LocalRuntime;
  /** What each new build's runtime is started with. */
  readonly runtime: LocalRuntimeProps;
  readonly print: DevPrint;
  /** The console to move to each new build. @default - no console */
  readonly console?: ReloadingConsoleSource;
  /** Called with each new build's runtime before it takes over (to report its runs). */
  readonly onStart: (runtime: LocalRuntime) => void;
}

/**
 * Live reload: after an edit, builds the sources again and starts a runtime on the new build,
 * which takes over the triggers from the current one (no upload or tick is lost or delivered
 * twice); runs in flight finish on the build they started with.
 */
export class Reloader {
  private current: LocalRuntime;
  private running?: Promise<void>;
  private again = false;
  private readonly retired: Promise<void>[] = [];

  constructor(private readonly props: ReloaderProps) {
    this.current = props.initial;
  }

  /** Reloads once the reload in progress, if any, is done. */
  request(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.reloadWhileChanged().finally(() => (this.running = undefined));
  }

  /** Waits for a reload in progress, then stops the runtimes it started (the caller stops the first). */
  async stop(): Promise<void> {
    this.again = false;
    await this.running;
    if (this.current !== this.props.initial) await this.current.stop();
    await Promise.all(this.retired);
  }

  private async reloadWhileChanged(): Promise<void> {
    do {
      this.again = false;
      await this.reload();
    } while (this.again);
  }

  private async reload(): Promise<void> {
    const { context, print } = this.props;
    const previous = this.current;
    if (sourceHash(context.projectDir, context.pipelinesDir, 'local') === previous.synth.hash) return;
    print({ event: 'reloading', build: previous.synth.build }, `reload   sources changed: building (runs use build ${previous.synth.build} meanwhile)`);
    const started = Date.now();
    let next: LocalRuntime;
    try {
      const { LocalRuntime } = await import('../runtime');
      next = await LocalRuntime.start(this.props.runtime);
    } catch (error) {
      print(
        { event: 'reload-failed', build: previous.synth.build, message: (error as Error).message },
        `reload   failed: ${(error as Error).message}. Runs go on using build ${previous.synth.build}; fix and save again`,
      );
      return;
    }
    this.props.onStart(next);
    await next.takeOverTriggers(previous);
    this.props.console?.replace(await consoleSourceFor(context, next));
    this.current = next;
    // The previous build finishes the runs it started, then lets go of its services.
    this.retired.push(
      previous.stop().catch((error: unknown) => print({ event: 'error', message: (error as Error).message }, `ERROR    stopping build ${previous.synth.build}: ${(error as Error).message}`)),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    print(
      { event: 'reloaded', build: next.synth.build, seconds: Number(seconds), endpoints: next.endpoints },
      `reload   build ${next.synth.build} ready in ${seconds} s: the next runs use it (its endpoints: ${movedEndpoints(next.endpoints)})`,
    );
  }
}

/** The endpoints a new build serves itself: all but S3 and DynamoDB, which stay where they are. */
function movedEndpoints(endpoints: LocalRuntime['endpoints']): string {
  const { s3: _s3, dynamodb: _dynamodb, ...moved } = endpoints;
  return Object.entries(moved)
    .map(([service, url]) => `${service} ${url}`)
    .join(', ');
}
