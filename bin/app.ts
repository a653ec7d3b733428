import { stages } from '../config/stages';
import { loadPipelines, pipelinesDir } from '../lib/loader';
import { createSluiceApp } from '../lib/stacks/app';
import { selectStages } from '../lib/stacks/stage-config';

// `SLUICE_STAGES=local,dev` builds only those stages: the local runtime and tests synth fast.
createSluiceApp({
  stages: selectStages(stages, process.env.SLUICE_STAGES),
  pipelines: await loadPipelines(pipelinesDir()),
});
