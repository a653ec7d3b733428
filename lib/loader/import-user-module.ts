import { pathToFileURL } from 'node:url';
import { RUNS_FROM_BUILD } from '../package-files';

let typeScriptLoader: Promise<void> | undefined;

/**
 * Imports a TypeScript module of the user's project (a `pipeline.ts`, `sluice.config.ts`).
 * From its sources sluice already runs under a TypeScript loader (tsx, vitest). Built, it runs
 * as plain JavaScript and registers tsx only here, on the first user module it needs: commands
 * that read no definitions (a `sluice run` on an unchanged project) never pay for it.
 */
export async function importUserModule<T>(file: string): Promise<T> {
  if (RUNS_FROM_BUILD) {
    typeScriptLoader ??= import('tsx/esm/api').then(({ register }) => {
      register();
    });
    await typeScriptLoader;
  }
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as T;
}
