/**
 * The CDK side of sluice (`sluice/cdk`): the app factory, the stacks and constructs it builds,
 * stage configuration, and the loading of a project's pipelines and stages.
 */
export * from './stacks';
export * from './constructs';
export { loadPipelines, pipelinesDir, type LoadedPipeline } from './loader';
export { findProjectDir, loadProjectStages, PROJECT_CONFIG_FILE, ProjectConfigError } from './loader/project-config';
