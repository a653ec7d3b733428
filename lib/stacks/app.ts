import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { LoadedPipeline } from '../loader';
import { SluiceStage } from './sluice-stage';
import type { StageConfig } from './stage-config';

/** Properties of {@link createSluiceApp}. */
export interface SluiceAppProps extends AppProps {
  /** The stages to build, validated. */
  readonly stages: readonly StageConfig[];
  /** The pipelines every stage deploys. */
  readonly pipelines: readonly LoadedPipeline[];
  /**
   * Check every stack against cdk-nag's AWS Solutions rules at synth; a finding that is not
   * acknowledged (with its reason) fails synth and is listed in the validation report.
   *
   * @default true
   */
  readonly complianceChecks?: boolean;
}

/**
 * Feature flags the app is built with. They live here, not in cdk.json, so that an in-process
 * synth (the local runtime, the tests) builds exactly what `cdk synth` builds.
 */
const FEATURE_FLAGS = {
  // Server access logs delivered through a bucket policy rather than the legacy ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

/** The CDK app: one {@link SluiceStage} per stage. */
export function createSluiceApp(props: SluiceAppProps): { app: App; stages: SluiceStage[] } {
  const { stages, pipelines, complianceChecks = true, ...appProps } = props;
  const app = new App({ ...appProps, context: { ...FEATURE_FLAGS, ...appProps.context } });
  const built = stages.map((config) => new SluiceStage(app, config.name, { config, pipelines }));
  if (complianceChecks) Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stages: built };
}
