import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPipelines } from '../../lib/loader';
import { ProjectExistsError, scaffoldProject, sluiceVersions } from '../../local/init/scaffold';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-init-'));
  dirs.push(dir);
  return join(dir, 'My Pipelines');
};

describe('sluice init', () => {
  it('writes a project that depends on this version of sluice and the tools it is tested with', () => {
    const dir = newDir();
    const files = scaffoldProject(dir);
    expect(files).toEqual(expect.arrayContaining(['package.json', 'cdk.json', 'sluice.config.ts', 'pipelines/example/pipeline.ts', 'test/example.test.ts', '.gitignore', 'README.md']));
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const versions = sluiceVersions();
    expect(pkg.name).toBe('my-pipelines');
    expect(pkg.dependencies).toMatchObject({ sluice: versions.sluice, 'aws-cdk-lib': versions['aws-cdk-lib'], constructs: versions.constructs });
    expect(pkg.devDependencies).toMatchObject({ 'aws-cdk': versions['aws-cdk'], vitest: versions.vitest });
    expect(JSON.parse(readFileSync(join(dir, 'cdk.json'), 'utf8'))).toMatchObject({ app: 'npx sluice cdk-app' });
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toContain('npm install && npx sluice run example');
  });

  it('writes an example pipeline whose handlers exist and export handler', async () => {
    const dir = newDir();
    scaffoldProject(dir);
    // The example imports 'sluice', which only an installed project resolves: point it at the
    // sources; its handlers' packages (the AWS SDK) resolve from this repository's node_modules.
    symlinkSync(join(__dirname, '../../node_modules'), join(dir, 'node_modules'), 'dir');
    const pipelineFile = join(dir, 'pipelines/example/pipeline.ts');
    writeFileSync(pipelineFile, readFileSync(pipelineFile, 'utf8').replace("from 'sluice'", `from ${JSON.stringify(join(__dirname, '../../lib/index.ts'))}`));
    const [example] = await loadPipelines(join(dir, 'pipelines'));
    expect(example?.compiled.name).toBe('example');
    expect(Object.keys(example?.handlers ?? {})).toEqual(['extract', 'summarise']);
  });

  it('fails on a folder that holds a project already, naming the files, and writes nothing', () => {
    const dir = newDir();
    scaffoldProject(dir);
    rmSync(join(dir, 'README.md'));
    expect(() => scaffoldProject(dir)).toThrow(ProjectExistsError);
    expect(() => scaffoldProject(dir)).toThrow(/already holds package\.json, cdk\.json, .*: sluice init writes a new project/);
    expect(existsSync(join(dir, 'README.md'))).toBe(false);
  });
});
