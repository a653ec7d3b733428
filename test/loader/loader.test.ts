import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineValidationError } from '../../lib';
import { loadPipelines } from '../../lib/loader';

const LIB = resolve(__dirname, '../../lib/index.ts');
const dirs: string[] = [];

/** Writes a pipelines folder: each entry is `<folder>/<file>` → content. */
function pipelinesFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-loader-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const pipelineFile = (name: string, handler = './handler.ts') => `
import { pipeline, task } from ${JSON.stringify(LIB)};
export default pipeline({ name: ${JSON.stringify(name)}, tasks: { work: task({ handler: ${JSON.stringify(handler)} }) } });
`;
const handlerFile = 'export const handler = async () => ({ ok: true });\n';

async function loadError(dir: string): Promise<PipelineValidationError> {
  try {
    await loadPipelines(dir);
  } catch (error) {
    if (error instanceof PipelineValidationError) return error;
    throw error;
  }
  throw new Error('expected loading to fail');
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadPipelines', () => {
  it('discovers DIR/*/pipeline.ts and resolves handlers relative to each pipeline', async () => {
    const dir = pipelinesFolder({
      'beta/pipeline.ts': pipelineFile('beta'),
      'beta/handler.ts': handlerFile,
      'alpha/pipeline.ts': pipelineFile('alpha', './src/work'),
      'alpha/src/work.ts': handlerFile,
      'notes/readme.md': 'not a pipeline',
    });
    const loaded = await loadPipelines(dir);
    expect(loaded.map((p) => p.compiled.name)).toStrictEqual(['alpha', 'beta']);
    expect(loaded[0].handlers).toStrictEqual({ work: join(dir, 'alpha/src/work.ts') });
  });

  it('fails when a handler file does not exist, naming the pipeline and task', async () => {
    const dir = pipelinesFolder({ 'orders/pipeline.ts': pipelineFile('orders', './missing.ts') });
    const error = await loadError(dir);
    expect(error.message).toContain('pipeline "orders", task "work": handler file ./missing.ts does not exist');
    expect(error.message).toContain('handler paths are relative to the folder of pipeline.ts');
  });

  it('fails when a handler file does not export handler', async () => {
    const dir = pipelinesFolder({
      'orders/pipeline.ts': pipelineFile('orders'),
      'orders/handler.ts': 'export const main = async () => 1;\n',
    });
    const error = await loadError(dir);
    expect(error.message).toContain('pipeline "orders", task "work": handler file ./handler.ts does not export "handler" (it exports: main)');
  });

  it('fails on two pipelines with the same name', async () => {
    const dir = pipelinesFolder({
      'a/pipeline.ts': pipelineFile('orders'),
      'a/handler.ts': handlerFile,
      'b/pipeline.ts': pipelineFile('orders'),
      'b/handler.ts': handlerFile,
    });
    expect((await loadError(dir)).message).toContain('pipeline "orders": duplicate pipeline name');
  });

  it('fails on a pipeline.ts without a pipeline default export', async () => {
    const dir = pipelinesFolder({ 'odd/pipeline.ts': 'export const x = 1;\n' });
    expect((await loadError(dir)).message).toContain('pipeline.ts has no default export made by pipeline()');
  });

  it('reports the problems of every pipeline at once', async () => {
    const dir = pipelinesFolder({
      'a/pipeline.ts': pipelineFile('a', './nope.ts'),
      'b/pipeline.ts': pipelineFile('B'),
      'b/handler.ts': handlerFile,
    });
    const error = await loadError(dir);
    expect(error.issues.map((i) => i.pipeline)).toStrictEqual(['a', 'B']);
  });

  it('fails on a pipelines folder that does not exist', async () => {
    const error = await loadError('/nonexistent/sluice-pipelines');
    expect(error.message).toContain('the pipelines folder /nonexistent/sluice-pipelines does not exist');
  });
});
