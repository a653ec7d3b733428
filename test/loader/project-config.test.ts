import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findProjectDir, loadProjectStages } from '../../lib/loader/project-config';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-project-'));
  dirs.push(dir);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe('a project is the folder of its sluice.config.ts', () => {
  it('is found from any folder inside it', () => {
    const dir = project({ 'sluice.config.ts': 'export const stages = [];\n', 'pipelines/example/pipeline.ts': '' });
    expect(findProjectDir(join(dir, 'pipelines', 'example'))).toBe(dir);
  });

  it('is not found outside any project', () => {
    expect(findProjectDir(project({ 'README.md': '' }))).toBeUndefined();
  });

  it('names its stages in sluice.config.ts', async () => {
    const dir = project({ 'sluice.config.ts': "export const stages = [{ name: 'local', account: '000000000000', region: 'us-east-1', buckets: {} }];\n" });
    expect((await loadProjectStages(dir)).map((s) => s.name)).toEqual(['local']);
  });

  it('fails without sluice.config.ts, telling how to create a project', async () => {
    const dir = project({});
    await expect(loadProjectStages(dir)).rejects.toThrow(`no sluice.config.ts in ${dir}: run \`npx sluice init\``);
  });

  it('fails when sluice.config.ts exports no stages', async () => {
    const dir = project({ 'sluice.config.ts': 'export const stage = [];\n' });
    await expect(loadProjectStages(dir)).rejects.toThrow('exports no `stages`: end it with `export const stages = validateStages([...])`');
  });
});
