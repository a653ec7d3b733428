import type { InvokeResult } from '../lambda';
import { Sandbox, type SandboxInvocation, type SandboxOptions, type SandboxSpec } from './sandbox';

/** Sandboxes of one function at most: a burst of invocations waits for one rather than starting hundreds. */
export const SANDBOXES_PER_FUNCTION = 8;
/**
 * How long an invocation waits for a busy sandbox of its function before another one is started
 * for it. Starting one costs a module load (the SDK included: tens to hundreds of milliseconds of
 * CPU), so a burst of short invocations is served by the warm ones, while long ones still run side
 * by side, up to {@link SANDBOXES_PER_FUNCTION}.
 */
export const SCALE_OUT_AFTER_MS = 50;
/** How long a sandbox stays warm without an invocation. Idle sandboxes never keep the process alive. */
export const SANDBOX_IDLE_MS = 60_000;

/**
 * The warm sandboxes of one function (one bundle in one environment), as Lambda keeps execution
 * environments: an invocation takes an idle one, or starts one while there are fewer than
 * `limit`, or waits for one to come free; a sandbox idle for `idleMs` is stopped.
 */
export class SandboxPool {
  private readonly idle: Array<{ sandbox: Sandbox; timer: NodeJS.Timeout }> = [];
  private readonly waiting: Array<{ readonly take: (sandbox: Sandbox) => void; timer?: NodeJS.Timeout }> = [];
  private readonly live = new Set<Sandbox>();
  private closed = false;

  constructor(
    private readonly spec: SandboxSpec,
    private readonly providerUrl: string,
    private readonly limit = SANDBOXES_PER_FUNCTION,
    private readonly idleMs = SANDBOX_IDLE_MS,
  ) {}

  /** Runs the invocation in a sandbox of this function; its timeout starts when that sandbox takes it. */
  async invoke(invocation: SandboxInvocation): Promise<InvokeResult> {
    const sandbox = await this.acquire();
    try {
      return await sandbox.run(invocation);
    } finally {
      this.release(sandbox);
    }
  }

  /**
   * Starts a sandbox that loads the function's module now, for an invocation to come, unless the
   * function has one already (warm or busy). Resolves once that init has ended.
   */
  prewarm(): Promise<void> {
    if (this.closed || this.live.size > 0) return Promise.resolve();
    const sandbox = this.start({ init: true });
    this.release(sandbox);
    return sandbox.ready;
  }

  /** Stops every sandbox; later invocations start new ones. */
  async close(): Promise<void> {
    this.closed = true;
    const live = [...this.live];
    for (const { timer } of this.idle.splice(0)) clearTimeout(timer);
    await Promise.all(live.map((sandbox) => sandbox.stop()));
    this.closed = false;
  }

  private acquire(): Promise<Sandbox> {
    for (let warm = this.idle.pop(); warm; warm = this.idle.pop()) {
      clearTimeout(warm.timer);
      // One that crashed while idle (a callback of an earlier invocation threw) is gone.
      if (warm.sandbox.usable) return Promise.resolve(warm.sandbox);
    }
    if (this.live.size === 0) return Promise.resolve(this.start());
    return new Promise((resolve) => {
      const waiter: (typeof this.waiting)[number] = { take: resolve };
      this.waiting.push(waiter);
      this.scaleOut(waiter);
    });
  }

  /** Starts a sandbox for `waiter` if it is still waiting after {@link SCALE_OUT_AFTER_MS} (or as soon as there is room). */
  private scaleOut(waiter: (typeof this.waiting)[number]): void {
    waiter.timer = setTimeout(() => {
      waiter.timer = undefined;
      const at = this.waiting.indexOf(waiter);
      if (at < 0) return;
      if (this.live.size >= this.limit) return this.scaleOut(waiter);
      this.waiting.splice(at, 1);
      waiter.take(this.start());
    }, SCALE_OUT_AFTER_MS);
  }

  private start(options: SandboxOptions = {}): Sandbox {
    const sandbox = new Sandbox(this.spec, this.providerUrl, options);
    this.live.add(sandbox);
    void sandbox.ended.then(() => this.live.delete(sandbox));
    return sandbox;
  }

  private release(sandbox: Sandbox): void {
    if (!sandbox.usable) this.live.delete(sandbox);
    const next = this.waiting.shift();
    if (next) {
      clearTimeout(next.timer);
      next.take(sandbox.usable ? sandbox : this.start());
      return;
    }
    if (!sandbox.usable) return;
    if (this.closed) {
      void sandbox.stop();
      return;
    }
    const timer = setTimeout(() => {
      const at = this.idle.findIndex((entry) => entry.sandbox === sandbox);
      if (at >= 0) this.idle.splice(at, 1);
      void sandbox.stop();
    }, this.idleMs);
    timer.unref();
    this.idle.push({ sandbox, timer });
  }
}
