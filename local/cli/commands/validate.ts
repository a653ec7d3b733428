import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, PipelineValidationError } from '../../../lib/compile/errors';
import { discoverPipelines } from '../../../lib/loader';
import { PROJECT_CONFIG_FILE } from '../../../lib/loader/project-config';
import { type CliContext, requireProject } from '../context';
import { EXIT } from '../errors';

/**
 * `sluice validate`: loads and compiles every pipeline, checks its handlers' imports and that
 * every stage configures the buckets it names, and reports every problem at once.
 */
export async function validate(context: CliContext): Promise<number> {
  requireProject(context);
  try {
    const { pipelines, issues: loadIssues } = await discoverPipelines(context.pipelinesDir);
    // Loaded only here: the stage configuration imports aws-cdk-lib, which `list` does not need.
    // Pipelines outside any project (no sluice.config.ts) have no stages to check against.
    const [{ loadProjectStages }, { bucketIssues }] = await Promise.all([import('../../../lib/loader/project-config'), import('../../../lib/stacks/stage-config')]);
    const stages = existsSync(join(context.projectDir, PROJECT_CONFIG_FILE)) ? await loadProjectStages(context.projectDir) : [];
    const compiled = pipelines.map((p) => p.compiled);
    const issues = [...loadIssues, ...stages.flatMap((stage) => bucketIssues(stage, compiled))];
    if (issues.length > 0) throw new PipelineValidationError(issues);
    const names = pipelines.map((p) => p.compiled.name);
    if (context.json) context.io.out(`${JSON.stringify({ ok: true, pipelines: names })}\n`);
    else context.io.out(`OK: ${names.length} pipeline${names.length === 1 ? '' : 's'} valid in ${context.pipelinesDir} (${names.join(', ')})\n`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof PipelineValidationError)) throw error;
    if (context.json) {
      context.io.out(`${JSON.stringify({ ok: false, issues: error.issues })}\n`);
    } else {
      const count = error.issues.length === 1 ? '1 problem' : `${error.issues.length} problems`;
      context.io.out(`${count} in ${context.pipelinesDir}:\n${error.issues.map((issue) => `  - ${formatIssue(issue)}\n`).join('')}`);
    }
    return EXIT.failed;
  }
}
