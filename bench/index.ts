import { mkdir, writeFile } from 'node:fs/promises';
import { formatTable, type BenchResult } from './stats';

/** Every benchmark, by the name given on the command line. Each module exports `run()`. */
const BENCHES: Readonly<Record<string, () => Promise<{ run(): Promise<BenchResult> }>>> = {
  backfill: () => import('./backfill'),
  dag: () => import('./dag'),
  local: () => import('./local'),
  synth: () => import('./synth'),
  ui: () => import('./ui'),
};

async function main(argv: readonly string[]): Promise<number> {
  const known = Object.keys(BENCHES);
  const unknown = argv.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    console.error(`Unknown bench: ${unknown.join(', ')}. Available: ${known.join(', ')}.`);
    return 2;
  }
  const results = new URL('./results/', import.meta.url);
  await mkdir(results, { recursive: true });
  for (const name of argv.length > 0 ? argv : known) {
    const started = performance.now();
    const result = await (await BENCHES[name]!()).run();
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`\n== ${name}: ${result.title} (${seconds} s)\n${formatTable(result.rows)}`);
    const file = new URL(`${name}.json`, results);
    await writeFile(file, `${JSON.stringify({ name, ...result }, null, 2)}\n`);
    console.log(`\nwritten to ${file.pathname}`);
  }
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
