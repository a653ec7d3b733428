#!/usr/bin/env node
// The `sluice` command. Installed as a package, it runs the built CLI (dist/cli.js): plain
// JavaScript, nothing compiled at start. In a checkout of the sluice repository (the TypeScript
// sources beside this folder) it runs those through tsx, so that no build is needed while
// developing sluice itself; there the `sluice-source` export condition makes `import ... from
// 'sluice'` in the example project (examples/) resolve to the same sources, never to a stale dist/.
import { existsSync } from 'node:fs';
import module from 'node:module';

const sources = new URL('../local/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  // module.register: an asynchronous loader hooks module (not the in-thread module.registerHooks the sandboxes use).
  module.register(
    "data:text/javascript,export const resolve = (specifier, context, next) => next(specifier, { ...context, conditions: [...context.conditions, 'sluice-source'] });",
  );
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli.js');
}
