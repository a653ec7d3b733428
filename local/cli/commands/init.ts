import { relative, resolve } from 'node:path';
import { ProjectExistsError, scaffoldProject } from '../../init/scaffold';
import type { CliContext } from '../context';
import { EXIT, UsageError } from '../errors';

/** `sluice init [dir]`: a new project in `dir` (default: the working folder), then what to run. */
export async function init(context: CliContext, dir = '.'): Promise<number> {
  const root = resolve(dir);
  let files: string[];
  try {
    files = scaffoldProject(root);
  } catch (error) {
    if (error instanceof ProjectExistsError) throw new UsageError(error.message);
    throw error;
  }
  const rel = relative(process.cwd(), root);
  const where = rel.startsWith('..') ? root : rel;
  context.io.out(`Created a sluice project in ${root}: ${files.join(', ')}\n\nNext:\n`);
  context.io.out(`${where ? `  cd ${where}\n` : ''}  npm install && npx sluice run example\n  npm test\n`);
  return EXIT.ok;
}
