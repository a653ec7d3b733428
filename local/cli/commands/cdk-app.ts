import { loadPipelines } from '../../../lib/loader';
import { loadProjectStages } from '../../../lib/loader/project-config';
import { createSluiceApp } from '../../../lib/stacks/app';
import { selectStages } from '../../../lib/stacks/stage-config';
import type { CliContext } from '../context';
import { EXIT } from '../errors';

/**
 * The project's CDK app, for its cdk.json (`"app": "npx sluice cdk-app"`): every stage of
 * `sluice.config.ts` (or those of `$SLUICE_STAGES`) with every pipeline, synthesized into the
 * folder the CDK CLI names in `$CDK_OUTDIR`.
 */
export async function cdkApp(context: CliContext): Promise<number> {
  const stages = await loadProjectStages(context.projectDir);
  const pipelines = await loadPipelines(context.pipelinesDir);
  const { app } = createSluiceApp({ stages: selectStages(stages, process.env.SLUICE_STAGES), pipelines });
  app.synth();
  return EXIT.ok;
}
