import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { StageConfig } from '../stacks/stage-config';
import { importUserModule } from './import-user-module';

/** The file of a sluice project that names its stages: `export const stages = validateStages([...])`. */
export const PROJECT_CONFIG_FILE = 'sluice.config.ts';

/** A project's `sluice.config.ts` is missing or does not export its stages. */
export class ProjectConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectConfigError';
  }
}

/** The nearest folder at or above `from` holding a `sluice.config.ts`, if any. */
export function findProjectDir(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, PROJECT_CONFIG_FILE))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The stages of the project in `projectDir`, from its `sluice.config.ts`.
 *
 * @throws ProjectConfigError when the file is missing or exports no `stages` array
 */
export async function loadProjectStages(projectDir: string): Promise<readonly StageConfig[]> {
  const file = join(projectDir, PROJECT_CONFIG_FILE);
  if (!existsSync(file)) {
    throw new ProjectConfigError(`no ${PROJECT_CONFIG_FILE} in ${projectDir}: run \`npx sluice init\` to create a project, or run sluice from one`);
  }
  const { stages } = await importUserModule<{ stages?: unknown }>(file);
  if (!Array.isArray(stages)) {
    throw new ProjectConfigError(`${file} exports no \`stages\`: end it with \`export const stages = validateStages([...])\` (from 'sluice/cdk')`);
  }
  return stages as readonly StageConfig[];
}
