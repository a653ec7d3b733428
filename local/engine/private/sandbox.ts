import { Worker } from 'node:worker_threads';
import type { DirectRoute, GatewayRequest, GatewayShortcut } from '../../iam/gateway';
import type { InvokeResult } from '../lambda';
import type { OutputSink } from './invocation-output';
import { SANDBOX_SOURCE } from './sandbox-source';

/** What a sandbox runs: one function's bundle, in its environment, within its memory. */
export interface SandboxSpec {
  /** The function's name, for the worker's name. */
  readonly functionName: string;
  readonly handlerFile: string;
  readonly handlerExport: string;
  /** The whole `process.env` of the sandbox. */
  readonly environment: Readonly<Record<string, string>>;
  /** The function's memory size: the sandbox's JavaScript heap may not grow past it. */
  readonly memoryMb: number;
  /**
   * The local IAM gateway, whose decision lets the function's allowed SDK calls skip its hop
   * (see `sandbox-source.ts`). @default - every call to the gateway goes through it
   */
  readonly gateway?: GatewayShortcut;
}

/** One invocation as the sandbox receives it. */
export interface SandboxInvocation {
  readonly requestId: string;
  /** The event as JSON: the payload crosses a JSON boundary on Lambda. */
  readonly event: string;
  /** The plain fields of the Lambda context. */
  readonly context: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** Receives the lines the invocation prints. @default - they go to the host's streams only */
  readonly sink?: OutputSink;
}

/** Lambda's limit on a function's init (loading its module), apart from its timeout. */
export const INIT_LIMIT_SECONDS = 10;

/** How a sandbox starts. */
export interface SandboxOptions {
  /**
   * Load the function's module at once, before any invocation, as an execution environment Lambda
   * starts ahead of demand: its init is then off the path of the invocation that takes it. The
   * init limit counts from the start all the same.
   * @default false - the module loads with the first invocation
   */
  readonly init?: boolean;
}

interface Pending {
  readonly requestId: string;
  readonly sink?: OutputSink;
  readonly partial: Record<'stdout' | 'stderr', string>;
  readonly resolve: (result: InvokeResult) => void;
  timer: NodeJS.Timeout;
  readonly startClock: () => NodeJS.Timeout;
}

/**
 * One Lambda execution environment: a worker thread holding one function's module, running one
 * invocation at a time and reused while warm. It can be stopped, so a timeout stops the attempt
 * (`Sandbox.Timedout`: its timers and writes never happen), a heap past the function's memory
 * fails it (`Runtime.OutOfMemory`), and `process.exit` or a crash from a callback fails that
 * invocation only; after any of these the sandbox is gone (`ended`) and a new one takes its place.
 */
export class Sandbox {
  private readonly worker: Worker;
  private pending?: Pending;
  private ending = false;
  /** Whether the module has loaded: from then on, an invocation's clock starts when it is handed over. */
  private initialized = false;
  /** When a sandbox started with `init` began loading the module. */
  private initStartedAt?: number;
  /** Ends a sandbox whose init, started ahead, outlasts the limit while no invocation waits for it. */
  private initTimer?: NodeJS.Timeout;
  private markReady!: () => void;
  /** Resolves once the worker has stopped. */
  readonly ended: Promise<void>;
  /** Resolves once the init of a sandbox started with `init` has ended (loaded or failed), or the first invocation found the module loaded, or the sandbox has ended. */
  readonly ready: Promise<void>;

  constructor(spec: SandboxSpec, providerUrl: string, options: SandboxOptions = {}) {
    this.worker = new Worker(SANDBOX_SOURCE, {
      eval: true,
      name: `sluice:${spec.functionName}`,
      env: { ...spec.environment },
      // The host's own flags (tsx's loader, the test runner's) are not the function's.
      execArgv: /(^|\s)--enable-source-maps(\s|$)/.test(spec.environment.NODE_OPTIONS ?? '') ? ['--enable-source-maps'] : [],
      workerData: { handlerFile: spec.handlerFile, handlerExport: spec.handlerExport, providerUrl, gateway: spec.gateway?.endpoints ?? [] },
      resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb },
    });
    this.ended = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('message', (message: SandboxMessage) => this.receive(message, spec.gateway));
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.ending = true;
      if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        this.fail('Runtime.OutOfMemory', `Error: Runtime exited with error: signal: killed (the JavaScript heap reached the function's memory size)`);
      } else {
        this.fail(error.name || 'Error', error.message);
      }
    });
    this.worker.on('exit', (code) => {
      this.ending = true;
      this.fail('Runtime.ExitError', `Error: Runtime exited with error: exit status ${code}`);
    });
    this.worker.unref();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    void this.ended.then(() => this.markReady());
    if (options.init) {
      this.initStartedAt = Date.now();
      this.worker.postMessage({ type: 'init' });
      this.initTimer = setTimeout(() => void this.stop(), INIT_LIMIT_SECONDS * 1000);
      this.initTimer.unref();
    }
  }

  /** Whether the sandbox can take another invocation. */
  get usable(): boolean {
    return !this.ending;
  }

  /**
   * Runs one invocation. Its timeout clock starts now in a warm sandbox, and once the module has
   * loaded in a new one (the init has a limit of its own, {@link INIT_LIMIT_SECONDS}, counted from
   * the start of the init), as on Lambda.
   */
  run(invocation: SandboxInvocation): Promise<InvokeResult> {
    if (this.pending) throw new Error('A sandbox runs one invocation at a time');
    const { requestId, event, context, timeoutSeconds, sink } = invocation;
    this.worker.ref();
    clearTimeout(this.initTimer);
    const initLeftMs = INIT_LIMIT_SECONDS * 1000 - (this.initStartedAt === undefined ? 0 : Date.now() - this.initStartedAt);
    return new Promise<InvokeResult>((resolve) => {
      const timedOut = (seconds: number, phase: string) => () => {
        this.settle({
          ok: false,
          requestId,
          errorType: 'Sandbox.Timedout',
          errorMessage: `RequestId: ${requestId} Error: ${phase} timed out after ${seconds.toFixed(2)} seconds`,
          trace: [],
        });
        void this.stop();
      };
      const startClock = () => setTimeout(timedOut(timeoutSeconds, 'Task'), timeoutSeconds * 1000);
      this.pending = {
        requestId,
        sink,
        partial: { stdout: '', stderr: '' },
        resolve,
        timer: this.initialized ? startClock() : setTimeout(timedOut(INIT_LIMIT_SECONDS, 'Init'), Math.max(0, initLeftMs)),
        startClock,
      };
      this.worker.postMessage({ type: 'invoke', requestId, event, context, timeoutMs: timeoutSeconds * 1000 });
    });
  }

  /** Stops the worker, failing the invocation it runs, if any, as its runtime exiting would. */
  stop(): Promise<void> {
    if (!this.ending) {
      this.ending = true;
      void this.worker.terminate();
    }
    return this.ended;
  }

  private receive(message: SandboxMessage, gateway: GatewayShortcut | undefined): void {
    switch (message.type) {
      case 'ask': {
        let route: DirectRoute | undefined;
        try {
          route = gateway?.direct(message.endpoint, message.request);
        } catch {
          // Undecided here: the request takes the gateway's hop, which answers it.
        }
        this.worker.postMessage({ type: 'route', id: message.id, route });
        break;
      }
      case 'output':
        // On to the host's streams (a CLI's log file, the metrics tap), as the function printed it.
        process[message.stream].write(message.text);
        if (this.pending?.sink) {
          const lines = (this.pending.partial[message.stream] + message.text).split('\n');
          this.pending.partial[message.stream] = lines.pop() ?? '';
          for (const line of lines) this.pending.sink(message.stream, line);
        }
        break;
      case 'ready':
        // A failed init is left for the invocation that takes this sandbox to report.
        if (message.ok) {
          this.initialized = true;
          clearTimeout(this.initTimer);
        }
        this.markReady();
        break;
      case 'start':
        this.initialized = true;
        this.markReady();
        if (message.requestId !== this.pending?.requestId) break;
        clearTimeout(this.pending.timer);
        this.pending.timer = this.pending.startClock();
        break;
      case 'result': {
        this.initialized ||= !(!message.ok && message.reinit);
        if (message.requestId !== this.pending?.requestId) break;
        const { requestId } = message;
        this.settle(
          message.ok
            ? { ok: true, requestId, payload: JSON.parse(message.payload) }
            : { ok: false, requestId, errorType: message.errorType, errorMessage: message.errorMessage, trace: message.trace },
        );
        if (!message.ok && message.reinit) void this.stop();
        break;
      }
      case 'crash':
        // A crash between invocations ends the sandbox all the same, as it ends Lambda's runtime.
        this.fail(message.errorType, message.errorMessage, message.trace);
        void this.stop();
        break;
    }
  }

  private fail(errorType: string, message: string, trace: readonly string[] = []): void {
    if (!this.pending) return;
    const { requestId } = this.pending;
    this.settle({ ok: false, requestId, errorType, errorMessage: message.startsWith('Error: Runtime') ? `RequestId: ${requestId} ${message}` : message, trace });
  }

  private settle(result: InvokeResult): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    if (pending.sink) for (const stream of ['stdout', 'stderr'] as const) if (pending.partial[stream] !== '') pending.sink(stream, pending.partial[stream]);
    if (!this.ending) this.worker.unref();
    pending.resolve(result);
  }
}

type SandboxMessage =
  | { readonly type: 'ask'; readonly id: number; readonly endpoint: string; readonly request: GatewayRequest }
  | { readonly type: 'ready'; readonly ok: boolean }
  | { readonly type: 'start'; readonly requestId: string }
  | { readonly type: 'output'; readonly stream: 'stdout' | 'stderr'; readonly text: string }
  | { readonly type: 'result'; readonly requestId: string; readonly ok: true; readonly payload: string }
  | {
      readonly type: 'result';
      readonly requestId: string;
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      readonly trace: string[];
      readonly reinit?: boolean;
    }
  | { readonly type: 'crash'; readonly errorType: string; readonly errorMessage: string; readonly trace: string[] };
