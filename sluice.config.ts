/**
 * The stages of this repository's example project, as a user's project declares them in its own
 * sluice.config.ts (the local runtime and `sluice cdk-app` read this file).
 */
export { stages } from './config/stages';
