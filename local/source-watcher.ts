import { existsSync, type FSWatcher, statSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import { isIgnoredSource, sourceRoots } from './synth';

/** Properties of {@link watchSources}. */
export interface WatchSourcesProps {
  readonly projectDir: string;
  readonly pipelinesDir: string;
  /** Called once edits have paused for `quietMs`: an editor's save is often several writes. */
  readonly onChange: () => void;
  /** @default 300 */
  readonly quietMs?: number;
}

/**
 * Watches every source a local build is made of (the same roots its content hash covers) and calls
 * `onChange` after a burst of edits. Returns the function that stops watching. Whether anything
 * the build depends on really changed is for the caller to decide, by the content hash.
 */
export function watchSources(props: WatchSourcesProps): () => void {
  const quietMs = props.quietMs ?? 300;
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    clearTimeout(timer);
    timer = setTimeout(props.onChange, quietMs);
  };
  const watchers: FSWatcher[] = [];
  for (const { path } of sourceRoots(props.projectDir, props.pipelinesDir)) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      watchers.push(
        watch(path, { recursive: true, persistent: false }, (_event, file) => {
          if (file === null || !isIgnoredSource(file.toString())) changed();
        }),
      );
    } else {
      // A file is watched through its folder: editors replace files by renaming over them.
      const name = basename(path);
      watchers.push(watch(dirname(path), { persistent: false }, (_event, file) => file?.toString() === name && changed()));
    }
  }
  return () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}
