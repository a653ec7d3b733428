/**
 * The local stand-ins of one stage's AWS services, each deciding every call against the caller's
 * IAM policies, and the engine that runs the stage's state machines and functions on them: what
 * `LocalRuntime.start` brings up over the shared DynamoDB and S3.
 */
import { join } from 'node:path';
import { http } from './node-http';
import { SECRETS_ENV, type SecretLocation } from '../lib/compile/contract';
import { stageParameterPrefix } from '../lib/compile/deployed-names';
import { LocalEngine, type LocalFunction, type LocalSchedule } from './engine';
import { EventRouter } from './event-router';
import { LocalAuthorizer } from './iam/authorizer';
import { type IamGateway, startIamGateway } from './iam/gateway';
import { functionsToWarm, type LocalPipeline, pipelinesOf } from './local-pipelines';
import type { LocalRuntimeProps } from './runtime';
import {
  ensureTable,
  tableReady,
  type TableKeys,
  type LocalEventBridgeApi,
  type LocalLambdaApi,
  type LocalLogsApi,
  type LocalS3,
  type LocalSchedulerApi,
  type LocalSecretsApi,
  type LocalSnsApi,
  type LocalSqsApi,
  type LocalStepFunctionsApi,
  type SharedServices,
  startEventBridgeApi,
  startLambdaApi,
  startLogsApi,
  startSchedulerApi,
  startSecretsApi,
  startSnsApi,
  startSqsApi,
  startStepFunctionsApi,
} from './services';
import { executionHistory } from './services/execution-history';
import type { SynthLocalResult } from './synth';
import { TaskLogs } from './task-logs';

/** The file of local secret values in a project; `.gitignore` keeps it out of git. */
const SECRETS_FILE = 'secrets.local.json';

/** The stand-ins of one stage, over the shared DynamoDB and S3. */
export interface StageServices {
  readonly gateway: IamGateway;
  readonly sfn: LocalStepFunctionsApi;
  readonly sns: LocalSnsApi;
  readonly events: LocalEventBridgeApi;
  readonly sqs: LocalSqsApi;
  readonly secrets: LocalSecretsApi;
  readonly lambda: LocalLambdaApi;
  readonly scheduler: LocalSchedulerApi;
  readonly logs: LocalLogsApi;
}

/**
 * Loads the stage of `synth`'s build and starts its services, its tables and buckets, its engine
 * and the router of its events. Each service started is added to `started` as it starts, so that
 * the caller stops them all should a later one fail.
 */
export async function startStageServices(
  props: LocalRuntimeProps,
  synth: SynthLocalResult,
  shared: SharedServices,
  warn: (message: string) => void,
  started: Array<{ stop(): Promise<void> }>,
): Promise<{ readonly engine: LocalEngine; readonly pipelines: ReadonlyMap<string, LocalPipeline>; readonly services: StageServices; readonly router: EventRouter }> {
  const { dynamo, s3 } = shared;
  // Every AWS call of a function or state machine is decided against its role's policies: the
  // functions reach DynamoDB and S3 through this runtime's gateway, which knows the stage.
  const { loadStage } = await import('./engine');
  const stage = loadStage(synth.buildDir, 'local');
  const authorizer = LocalAuthorizer.of(stage);
  const { authorize } = authorizer;
  const gateway = await startIamGateway({ dynamodb: dynamo.endpoint, s3: s3.endpoint, authorize, environment: stage.environment });
  started.push(gateway);
  let engine: LocalEngine | undefined;
  const sfn = await startStepFunctionsApi({
    backend: {
      startExecution: (request) => engine!.startExecution(request),
      describeExecution: (arn) => engine!.describeExecution(arn),
      listExecutions: (arn) => engine!.listExecutions(arn),
      stopExecution: (arn, reason) => engine!.stopExecution(arn, reason),
      executionHistory: (arn) => executionHistory(engine!.describeExecution(arn)),
    },
    authorize,
  });
  started.push(sfn);
  const sns = await startSnsApi({ logFile: join(props.home, 'alerts.jsonl'), authorize });
  started.push(sns);
  // Tasks read their declared secrets, unchanged, from the local file through these services.
  const secrets = await startSecretsApi({
    file: props.secretsFile ?? process.env.SLUICE_SECRETS_FILE ?? join(props.projectDir, SECRETS_FILE),
    locations: secretLocationsOf(stage.functions),
    published: stage.parameters,
    environment: stage.environment,
    authorize,
  });
  started.push(secrets);
  // What `--stage` calls beyond these (AWS_ENDPOINT_URL_* point a deployed-stage command here):
  // the launchers, the schedules' state, and the task logs.
  const lambda = await startLambdaApi({ find: (name) => stage.findFunction(name), invoke: (arn, event) => engine!.invoke(arn, event), authorize });
  started.push(lambda);
  // Loaded when first asked (it loads the AWS SDK): not on the path of a start.
  const scheduleStatesOf = async (schedule: LocalSchedule) => {
    const { ScheduleStates } = await import('../orchestration/schedule-state');
    const pipeline = [...pipelinesOf(stage).values()].find((p) => p.launcher.arn === stage.findFunction(schedule.target.arn)?.arn);
    if (!pipeline) throw new Error(`schedule ${schedule.name} does not launch a pipeline of the local stage`);
    return { pipeline: pipeline.name, states: new ScheduleStates(dynamo.client(), pipeline.tableName) };
  };
  const scheduler = await startSchedulerApi({
    schedules: stage.schedules,
    state: async (schedule) => {
      const { pipeline, states } = await scheduleStatesOf(schedule);
      return (await states.get(pipeline)) === 'PAUSED' ? 'DISABLED' : 'ENABLED';
    },
    setState: async (schedule, state) => {
      const { pipeline, states } = await scheduleStatesOf(schedule);
      await states.set(pipeline, state === 'DISABLED' ? 'PAUSED' : 'ENABLED', new Date());
    },
    authorize,
  });
  started.push(scheduler);
  const logs = await startLogsApi({
    logs: new TaskLogs(props.home),
    taskOfLogGroup: (name) => taskOfLogGroup(stage.parameters, stage.stage, name),
    environment: stage.environment,
    authorize,
  });
  started.push(logs);
  // Partition events the run monitors put on the stage's bus reach that bus's rules.
  let router: EventRouter | undefined;
  const events = await startEventBridgeApi({
    authorize,
    environment: stage.environment,
    onEvent: (put) =>
      router?.publish(
        {
          version: '0',
          id: put.id,
          'detail-type': put.detailType,
          source: put.source,
          account: engine!.stage.environment.account,
          time: put.time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          region: engine!.stage.environment.region,
          resources: put.resources,
          detail: put.detail,
        },
        put.eventBusName,
      ),
  });
  started.push(events);
  // The launcher moves a message that can never start a run to its dead-letter queue itself.
  const sqs = await startSqsApi({ queues: stage.queues, authorize, onMessage: (message) => router?.send(message.queueArn, message.body, message.attributes) });
  started.push(sqs);
  engine = new LocalEngine({
    // The build itself, not `cdk.out`: a later build replaces `cdk.out`, never this folder.
    assemblyDir: synth.buildDir,
    stage: 'local',
    loadedStage: stage,
    dynamoEndpoint: dynamo.endpoint,
    s3Endpoint: s3.endpoint,
    sfnEndpoint: sfn.endpoint,
    snsEndpoint: sns.endpoint,
    eventBridgeEndpoint: events.endpoint,
    functionEnvironment: {
      ...s3.clientEnvironment,
      // Functions reach DynamoDB and S3 through the IAM gateway (and any interposed proxy). The
      // calls it allows to its own endpoints skip its hop (`gateway` below); with `interpose`,
      // DynamoDB's endpoint is the proxy's, so every DynamoDB call goes through the proxy and the
      // gateway, where the fault suite's proxy sees it.
      AWS_ENDPOINT_URL_DYNAMODB: props.interpose ? await props.interpose('dynamodb', gateway.dynamodb) : gateway.dynamodb,
      AWS_ENDPOINT_URL_S3: gateway.s3,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_SSM: secrets.endpoint,
      ...(props.interpose && { AWS_ENDPOINT_URL_SFN: await props.interpose('stepfunctions', sfn.endpoint) }),
      ...(props.functionLogLevel !== undefined && { POWERTOOLS_LOG_LEVEL: props.functionLogLevel }),
    },
    home: props.home,
    retryIntervalMs: props.retryIntervalMs,
    warn,
    authorizer,
    gateway,
    waitIntervalMs: props.waitIntervalMs,
  });
  const running = engine;
  // A start that fails from here on leaves no sandbox behind.
  started.push({ stop: () => running.close() });
  // The sandboxes of what the caller is about to run load while the tables and buckets are checked.
  const pipelines = pipelinesOf(running.stage);
  for (const { pipeline: name, start } of props.warm ?? []) {
    const pipeline = pipelines.get(name);
    if (pipeline) running.prewarm(functionsToWarm(pipeline, start));
  }
  // Side by side: each is a round trip to the services process.
  await Promise.all([
    ...running.stage.buckets.map((bucket) => ensureBucket(s3, bucket.name)),
    ...running.stage.tables.map(async (table) => {
      const keys = (table.properties.KeySchema as { AttributeName: string; KeyType: string }[]) ?? [];
      const indexes = (table.properties.GlobalSecondaryIndexes as { IndexName: string; KeySchema: typeof keys }[] | undefined) ?? [];
      const tableKeys: TableKeys = {
        tableName: table.name,
        partitionKey: keys.find((k) => k.KeyType === 'HASH')!.AttributeName,
        sortKey: keys.find((k) => k.KeyType === 'RANGE')?.AttributeName,
        indexes: indexes.map((index) => ({
          name: index.IndexName,
          partitionKey: index.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName,
          sortKey: index.KeySchema.find((k) => k.KeyType === 'RANGE')?.AttributeName,
        })),
      };
      // Found as it should be (every start after the first), it is not touched, with no SDK loaded.
      if (!(await tableReady(dynamo.json(), tableKeys))) await ensureTable(dynamo.client(), tableKeys);
    }),
  ]);
  router = new EventRouter({
    stage: running.stage,
    invoke: (arn, event) => running.invoke(arn, event),
    deadLetterDir: join(props.home, 'dead-letters'),
    notify: props.notify,
  });
  return { engine: running, pipelines, services: { gateway, sfn, sns, events, sqs, secrets, lambda, scheduler, logs }, router };
}

/** Where the stage's task functions read each logical secret (their `SLUICE_SECRETS`). */
function secretLocationsOf(functions: readonly LocalFunction[]): Map<string, SecretLocation> {
  const locations = new Map<string, SecretLocation>();
  for (const fn of functions) {
    const declared = fn.environment[SECRETS_ENV];
    if (!declared) continue;
    for (const [name, location] of Object.entries(JSON.parse(declared) as Record<string, SecretLocation>)) locations.set(name, location);
  }
  return locations;
}

/**
 * Creates a bucket of the stage in the shared S3 unless it exists: a CreateBucket of the path-style
 * API, sent as it is (the local S3 takes it unsigned), because loading the SDK's S3 client for it
 * took a tenth of a warm start's path to its first task.
 */
async function ensureBucket(s3: LocalS3, name: string): Promise<void> {
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const request = http.request(new URL(`/${encodeURIComponent(name)}`, s3.endpoint), { method: 'PUT' }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
  if (status === 200 || /<Code>BucketAlready(OwnedByYou|Exists)<\/Code>/.test(body)) return;
  throw new Error(`The local S3 could not create bucket ${name} (HTTP ${status}): ${body.slice(0, 300)}`);
}

/** The task whose log group `name` is, from the parameters the stage publishes (`taskLogGroupName`). */
function taskOfLogGroup(parameters: ReadonlyMap<string, string>, stage: string, name: string): { pipeline: string; task: string } | undefined {
  const pattern = new RegExp(`^${stageParameterPrefix(stage)}/pipelines/([^/]+)/tasks/([^/]+)/log-group-name$`);
  for (const [parameter, value] of parameters) {
    const match = value === name ? pattern.exec(parameter) : null;
    if (match) return { pipeline: match[1]!, task: match[2]! };
  }
  return undefined;
}
