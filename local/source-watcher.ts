import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isIgnoredSource, sourceRoots } from './synth';

/** Properties of {@link watchSources}. */
export interface WatchSourcesProps {
  readonly projectDir: string;
  readonly pipelinesDir: string;
  /** Called once edits have paused: an editor's save is often several writes. */
  readonly onChange: () => void;
  /** How often the sources are looked at. @default 500 */
  readonly intervalMs?: number;
}

/**
 * Watches every source a local build is made of (the roots its content hash covers) and calls
 * `onChange` when one was added, removed or written, once a look finds nothing new. Returns the
 * function that stops watching. Whether the build really changed is for the caller to decide, by
 * the content hash.
 *
 * It compares the size and modification time of every file at each look rather than use
 * `fs.watch`: on Linux, a recursive `fs.watch` missed appends to a file in our trials, and a few
 * hundred `stat` calls every half second cost about a millisecond.
 */
export function watchSources(props: WatchSourcesProps): () => void {
  const look = () => signature(props.projectDir, props.pipelinesDir);
  let seen = look();
  let pending = false;
  const timer = setInterval(() => {
    const now = look();
    if (now !== seen) {
      seen = now;
      pending = true;
    } else if (pending) {
      pending = false;
      props.onChange();
    }
  }, props.intervalMs ?? 500);
  timer.unref();
  return () => clearInterval(timer);
}

function signature(projectDir: string, pipelinesDir: string): string {
  const entries: string[] = [];
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    const stats = statSync(path);
    if (!stats.isDirectory()) {
      entries.push(`${path} ${stats.size} ${stats.mtimeMs}`);
      return;
    }
    for (const entry of readdirSync(path)) if (!isIgnoredSource(entry)) walk(join(path, entry));
  };
  for (const { path } of sourceRoots(projectDir, pipelinesDir)) walk(path);
  return entries.join('\n');
}
