import type { ConsoleSource } from './source';
import type { ChangeEvent } from './views';

/**
 * A console source that `sluice dev` points at the runtime of each new build: the console keeps
 * its address, token and open pages across reloads. Every call goes to the current source; pages
 * watching for changes are moved to the new source when it replaces the old one.
 */
export class ReloadingConsoleSource {
  /** The source to hand the console server. */
  readonly source: ConsoleSource;
  private current: ConsoleSource;
  private readonly watchers = new Map<(event: ChangeEvent) => void, () => void>();

  constructor(initial: ConsoleSource) {
    this.current = initial;
    // A Proxy, so that every method a source has (and any it gains) reaches the current one.
    this.source = new Proxy(initial, {
      get: (_target, property) => {
        if (property === 'watch') return (listener: (event: ChangeEvent) => void) => this.watch(listener);
        const value = Reflect.get(this.current, property, this.current) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(this.current) : value;
      },
    });
  }

  /** Sends every later call, and every page's changes, to `next`. */
  replace(next: ConsoleSource): void {
    this.current = next;
    for (const [listener, unsubscribe] of this.watchers) {
      unsubscribe();
      this.watchers.set(listener, next.watch(listener));
      // What the page shows may differ on the new build (a pipeline added or removed).
      listener({ what: 'run' });
    }
  }

  private watch(listener: (event: ChangeEvent) => void): () => void {
    this.watchers.set(listener, this.current.watch(listener));
    return () => {
      this.watchers.get(listener)?.();
      this.watchers.delete(listener);
    };
  }
}
