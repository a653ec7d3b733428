import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededRandom, type BenchResult } from './stats';

/** Set in the child process that synthesizes, so its peak RSS is the synth's alone. */
const CHILD_ENV = 'SLUICE_BENCH_SYNTH_DIR';
const LIB_ENTRY = fileURLToPath(new URL('../lib/index.ts', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);

interface SynthFigures {
  readonly pipelines: number;
  readonly tasks: number;
  readonly loadSeconds: number;
  readonly synthSeconds: number;
  readonly peakRssMb: number;
  readonly stacks: number;
  readonly largestStackResources: number;
  readonly platformResources: number;
  readonly violations: number;
}

/**
 * Synthesizes the `local` stage of an app of 100 generated pipelines × 10 tasks (random DAGs, one
 * shared handler file) with the cdk-nag checks on, in a child process: wall time, peak RSS, stack
 * count and the largest stack's resource count (CloudFormation's limit is 500 per stack).
 * `PIPELINES` and `TASKS` override the size.
 */
export async function run(): Promise<BenchResult> {
  const pipelines = Number(process.env.PIPELINES ?? 100);
  const tasks = Number(process.env.TASKS ?? 10);
  // Inside the project: NodejsFunction bundles only entries under the project root.
  const scratch = fileURLToPath(new URL('../.sluice/', import.meta.url));
  mkdirSync(scratch, { recursive: true });
  const dir = mkdtempSync(join(scratch, 'bench-synth-'));
  try {
    generate(join(dir, 'pipelines'), pipelines, tasks, seededRandom(20240601));
    const started = performance.now();
    const figures = await synthInChild(dir);
    const wallSeconds = (performance.now() - started) / 1000;
    return {
      title: `synth of one stage: ${pipelines} pipelines × ${tasks} tasks, cdk-nag on`,
      rows: [{ ...figures, wallSeconds: round(wallSeconds) }],
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Writes `count` pipelines of `size` tasks whose dependencies form random DAGs. */
function generate(dir: string, count: number, size: number, rand: () => number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'handler.ts'), 'export const handler = async (event: { task: string }) => ({ task: event.task });\n');
  for (let p = 0; p < count; p++) {
    const name = `bench-${String(p).padStart(3, '0')}`;
    const taskLines = Array.from({ length: size }, (_, i) => {
      const after = Array.from({ length: i }, (_, j) => j).filter(() => rand() < 2 / Math.max(i, 1));
      const deps = after.length > 0 ? `, after: [${after.map((j) => `'t${j}'`).join(', ')}]` : '';
      return `    t${i}: task({ handler: '../handler.ts'${deps} }),`;
    });
    mkdirSync(join(dir, name));
    writeFileSync(
      join(dir, name, 'pipeline.ts'),
      [
        `import { daily, pipeline, task } from ${JSON.stringify(LIB_ENTRY)};`,
        '',
        'export default pipeline({',
        `  name: '${name}',`,
        `  partitions: daily({ start: '2024-01-01' }),`,
        `  schedule: { cron: '${p % 60} 2 * * *' },`,
        '  tasks: {',
        ...taskLines,
        '  },',
        '});',
        '',
      ].join('\n'),
    );
  }
}

function synthInChild(dir: string): Promise<SynthFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', THIS_FILE], {
      env: { ...process.env, [CHILD_ENV]: dir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`synth child exited with ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(last) as SynthFigures);
    });
  });
}

/** In the child: load, synthesize, measure, print one JSON line. */
async function child(dir: string): Promise<void> {
  const [{ loadPipelines }, { createSluiceApp }, { stages }] = await Promise.all([
    import('../lib/loader'),
    import('../lib/stacks/app'),
    import('../examples/sluice.config'),
  ]);
  const local = stages.find((s) => s.name === 'local');
  if (!local) throw new Error('examples/sluice.config.ts has no "local" stage');
  const t0 = performance.now();
  const pipelines = await loadPipelines(join(dir, 'pipelines'));
  const t1 = performance.now();
  const outdir = join(dir, 'cdk.out');
  const { app } = createSluiceApp({ stages: [local], pipelines, outdir });
  const assembly = app.synth();
  const t2 = performance.now();

  const templates = assembly.stacksRecursively.map((s) => s.template as { Resources?: Record<string, unknown> });
  const counts = templates.map((t) => Object.keys(t.Resources ?? {}).length);
  const platform = assembly.stacksRecursively.find((s) => s.stackName.endsWith('-Platform'));
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: unknown[] }[];
  };
  const figures: SynthFigures = {
    pipelines: pipelines.length,
    tasks: pipelines.reduce((sum, p) => sum + p.compiled.tasks.length, 0),
    loadSeconds: round((t1 - t0) / 1000),
    synthSeconds: round((t2 - t1) / 1000),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    stacks: templates.length,
    largestStackResources: Math.max(...counts),
    platformResources: Object.keys((platform?.template as { Resources?: object } | undefined)?.Resources ?? {}).length,
    violations: report.pluginReports.reduce((sum, r) => sum + r.violations.length, 0),
  };
  // Bundling logs go to stdout too: the figures are the last line.
  process.stdout.write(`\n${JSON.stringify(figures)}\n`);
}

function round(x: number): number {
  return Number(x.toFixed(2));
}

if (process.env[CHILD_ENV]) await child(process.env[CHILD_ENV]);
