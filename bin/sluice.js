#!/usr/bin/env node
// The `sluice` command. Installed as a package, it runs the built CLI (dist/cli.js): plain
// JavaScript, nothing compiled at start. In a checkout of the sluice repository (the TypeScript
// sources beside this folder) it runs those through tsx, so that no build is needed while
// developing sluice itself.
import { existsSync } from 'node:fs';

const sources = new URL('../local/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(sources.href);
} else {
  await import('../dist/cli.js');
}
