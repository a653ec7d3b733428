#!/usr/bin/env node
// The `sluice` command: registers tsx so that the TypeScript CLI (and the pipelines it imports)
// run without a build step, then hands over to local/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../local/cli/main.ts');
