import { formatIssue, PipelineValidationError } from '../../../lib/compile/errors';
import { loadPipelines } from '../../../lib/loader';
import type { CliContext } from '../context';
import { EXIT } from '../errors';

/** `sluice validate`: loads and compiles every pipeline and reports every problem at once. */
export async function validate(context: CliContext): Promise<number> {
  try {
    const pipelines = await loadPipelines(context.pipelinesDir);
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
