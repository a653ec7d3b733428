import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../node-http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, LOCAL_ACCESS_KEY } from '../services/private/loopback';
import { accessKeyIdOfRequest, type RequestAuthorizer } from './authorizer';

/**
 * The request headers the gateway's decision reads, by lower-case name: the signer's key, the
 * DynamoDB operation, a copy's source. Both of its paths decide on these alone (the HTTP one drops
 * the others), and a caller asking for a {@link GatewayShortcut.direct} route sends exactly these
 * (see `sandbox-source.ts`): a check that reads another header must add it here, or it sees none.
 */
export const DECISION_HEADERS = ['authorization', 'x-amz-target', 'x-amz-copy-source'] as const;

/** A header the gateway's decision reads. */
export type DecisionHeader = (typeof DECISION_HEADERS)[number];

/** An AWS request as a caller sends it to one of the gateway's endpoints, as far as the gateway's decision reads it. */
export interface GatewayRequest {
  readonly method: string;
  /** Path and query string, as on the request line. */
  readonly path: string;
  /** The {@link DECISION_HEADERS}, by lower-case name. */
  readonly headers: Readonly<Partial<Record<DecisionHeader, string>>>;
  /** The body, when it is text (DynamoDB's JSON); a DynamoDB request without one goes through the gateway. */
  readonly body?: string;
}

/** Where an allowed request may go instead of the gateway, and the credential it carries there. */
export interface DirectRoute {
  /** The service's own endpoint, e.g. `http://127.0.0.1:4567`. */
  readonly endpoint: string;
  /** The `Authorization` header to send instead of the request's own. @default - the request's own */
  readonly authorization?: string;
}

/**
 * The gateway's decision without its HTTP hop, for callers in this process (the functions'
 * sandboxes, see `LocalLambda`): they ask before sending, and send an allowed request straight to
 * the service. A refused one still goes through the gateway, which refuses it as AWS does.
 */
export interface GatewayShortcut {
  /**
   * The gateway's endpoints (`http://127.0.0.1:PORT`; requests to others are not its to decide),
   * each with whether its decision reads the request's body (DynamoDB's names its tables) and the
   * request headers it reads, which an asker sends (the {@link DECISION_HEADERS}).
   */
  readonly endpoints: ReadonlyArray<{ readonly url: string; readonly readsBody: boolean; readonly readsHeaders: readonly string[] }>;
  /**
   * The route of a request to `endpoint` (one of {@link endpoints}) that its caller may make, as
   * the gateway would decide it; `undefined` when it must go through the gateway: refused, or not
   * decidable before its body is sent.
   */
  direct(endpoint: string, request: GatewayRequest): DirectRoute | undefined;
}

/** Endpoints that authorize every request before passing it on to the shared DynamoDB and S3. */
export interface IamGateway extends GatewayShortcut {
  /** Give functions this as `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly dynamodb: string;
  /** Give functions this as `AWS_ENDPOINT_URL_S3`. */
  readonly s3: string;
  stop(): Promise<void>;
}

/** What the gateway stands in front of. */
export interface IamGatewayProps {
  /** The DynamoDB endpoint requests go on to. */
  readonly dynamodb: string;
  /** The S3 endpoint (s3rver) requests go on to. */
  readonly s3: string;
  readonly authorize: RequestAuthorizer;
  /** Account and region of the table ARNs. */
  readonly environment: { readonly account: string; readonly region: string };
}

/**
 * The local DynamoDB and S3 as the functions of one runtime see them: a loopback endpoint each,
 * which authorizes a request as its signer's role (see `LocalAuthorizer`) and answers a refused
 * one with AWS's AccessDenied, or passes it on unchanged. The services themselves are shared by
 * every command of a `SLUICE_HOME` (one background process), while the roles and policies are
 * this runtime's stage: so the check lives here, in the process that knows the stage.
 *
 * S3 requests reach s3rver signed with the one key pair it accepts (it checks that a SigV4 key
 * exists, not the signature).
 */
export async function startIamGateway(props: IamGatewayProps): Promise<IamGateway> {
  const dynamodbDenial = (request: GatewayRequest) => dynamoDenial(request, props);
  const s3Refusal = (request: GatewayRequest) => s3Denial(request, props.authorize);
  const dynamodb = await proxy(props.dynamodb, dynamodbDenial, 'dynamodb');
  const s3 = await proxy(props.s3, s3Refusal, 's3');
  return {
    dynamodb: dynamodb.endpoint,
    s3: s3.endpoint,
    endpoints: [
      { url: dynamodb.endpoint, readsBody: true, readsHeaders: DECISION_HEADERS },
      { url: s3.endpoint, readsBody: false, readsHeaders: DECISION_HEADERS },
    ],
    direct: (endpoint, asked) => {
      // Decided on the same headers as the HTTP path, whatever else the asker sent.
      const request = { ...asked, headers: decisionHeadersOf(asked.headers) };
      if (endpoint === dynamodb.endpoint) {
        return request.body === undefined || dynamodbDenial(request) ? undefined : { endpoint: props.dynamodb };
      }
      if (endpoint === s3.endpoint) {
        return s3Refusal(request) ? undefined : { endpoint: props.s3, authorization: s3Authorization(request.headers.authorization) };
      }
      return undefined;
    },
    stop: async () => {
      await Promise.all([dynamodb.stop(), s3.stop()]);
    },
  };
}

async function proxy(
  target: string,
  deny: (request: GatewayRequest) => string | undefined,
  service: 'dynamodb' | 's3',
): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const backend = new URL(target);
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const denial = deny(gatewayRequestOf(request, body));
      if (denial) {
        refuse(response, service, denial);
        return;
      }
      const headers = { ...request.headers, host: backend.host };
      if (service === 's3' && typeof headers.authorization === 'string') headers.authorization = s3Authorization(headers.authorization);
      const upstream = http.request(
        { host: backend.hostname, port: backend.port, method: request.method, path: request.url, headers },
        (answer) => {
          response.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', (error) => {
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
        response.end(`The local ${service} endpoint ${target} is not answering: ${error.message}`);
      });
      upstream.end(body);
    });
  });
  await listen(server, 0);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => {
      server.closeAllConnections();
      return closeServer(server);
    },
  };
}

function gatewayRequestOf(request: IncomingMessage, body: Buffer): GatewayRequest {
  return { method: request.method ?? 'GET', path: request.url ?? '/', headers: decisionHeadersOf(request.headers), body: body.toString('utf8') };
}

/** The {@link DECISION_HEADERS} of a request's headers (by lower-case name), the first value of a repeated one. */
function decisionHeadersOf(headers: Readonly<Record<string, string | readonly string[] | undefined>>): GatewayRequest['headers'] {
  const picked: Partial<Record<DecisionHeader, string>> = {};
  for (const name of DECISION_HEADERS) {
    const value = headers[name];
    const first = typeof value === 'string' ? value : value?.[0];
    if (typeof first === 'string') picked[name] = first;
  }
  return picked;
}

/** The request's `Authorization` as s3rver accepts it: signed with the one key it knows (it checks the key exists, not the signature). */
function s3Authorization(authorization: string | undefined): string | undefined {
  return authorization?.replace(/Credential=[^/,\s]+\//, `Credential=${LOCAL_ACCESS_KEY}/`);
}

function refuse(response: ServerResponse, service: 'dynamodb' | 's3', message: string): void {
  if (service === 'dynamodb') {
    response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() });
    response.end(JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', Message: message }));
    return;
  }
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  response.writeHead(403, { 'content-type': 'application/xml', 'x-amz-request-id': requestId });
  response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${xmlText(message)}</Message><RequestId>${requestId}</RequestId></Error>`);
}

/** AWS's refusal of a DynamoDB request, if its caller may not make it on every table it names. */
function dynamoDenial(request: GatewayRequest, props: IamGatewayProps): string | undefined {
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
  if (!operation) return undefined;
  let parsed: { TableName?: string; IndexName?: string; RequestItems?: Record<string, unknown> };
  try {
    parsed = JSON.parse(request.body || '{}') as typeof parsed;
  } catch {
    return undefined; // the endpoint answers malformed JSON itself
  }
  // A body that is JSON but no object names no table: decided as a call on every table.
  if (typeof parsed !== 'object' || parsed === null) parsed = {};
  const { region, account } = props.environment;
  const table = (name: string) => `arn:aws:dynamodb:${region}:${account}:table/${name}`;
  const resources = parsed.TableName
    ? [parsed.IndexName ? `${table(parsed.TableName)}/index/${parsed.IndexName}` : table(parsed.TableName)]
    : Object.keys(parsed.RequestItems ?? {}).map(table);
  const accessKeyId = accessKeyIdOfRequest(request.headers.authorization);
  for (const resource of resources.length > 0 ? resources : ['*']) {
    const denial = props.authorize({ accessKeyId, action: `dynamodb:${operation}`, resource });
    if (denial) return denial;
  }
  return undefined;
}

/**
 * AWS's refusal of an S3 request (path style), if its caller may not make it: the action and
 * resource IAM checks for each operation, and for a copy also reading the source. A multi-object
 * delete is checked as deleting `<bucket>/*`.
 *
 * @see https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html
 */
function s3Denial(request: GatewayRequest, authorize: RequestAuthorizer): string | undefined {
  const accessKeyId = accessKeyIdOfRequest(request.headers.authorization);
  const url = new URL(request.path, 'http://local');
  const [, bucket = '', ...rest] = url.pathname.split('/');
  const key = rest.map(safeDecode).join('/');
  const query = url.searchParams;
  const method = request.method;
  const bucketArn = `arn:aws:s3:::${safeDecode(bucket)}`;
  const objectArn = `${bucketArn}/${key}`;
  const checks: { action: string; resource: string }[] = [];
  if (!bucket) checks.push({ action: 's3:ListAllMyBuckets', resource: '*' });
  else if (!key) {
    if (method === 'POST' && query.has('delete')) checks.push({ action: 's3:DeleteObject', resource: `${bucketArn}/*` });
    else if (method === 'PUT') checks.push({ action: 's3:CreateBucket', resource: bucketArn });
    else if (method === 'DELETE') checks.push({ action: 's3:DeleteBucket', resource: bucketArn });
    else if (query.has('location')) checks.push({ action: 's3:GetBucketLocation', resource: bucketArn });
    else if (query.has('uploads')) checks.push({ action: 's3:ListBucketMultipartUploads', resource: bucketArn });
    else if (query.has('versions')) checks.push({ action: 's3:ListBucketVersions', resource: bucketArn });
    else checks.push({ action: 's3:ListBucket', resource: bucketArn });
  } else if (method === 'GET' || method === 'HEAD') {
    const action = query.has('uploadId')
      ? 's3:ListMultipartUploadParts'
      : query.has('tagging')
        ? 's3:GetObjectTagging'
        : query.has('versionId')
          ? 's3:GetObjectVersion'
          : 's3:GetObject';
    checks.push({ action, resource: objectArn });
  } else if (method === 'DELETE') {
    const action = query.has('uploadId') ? 's3:AbortMultipartUpload' : query.has('versionId') ? 's3:DeleteObjectVersion' : 's3:DeleteObject';
    checks.push({ action, resource: objectArn });
  } else {
    checks.push({ action: query.has('tagging') ? 's3:PutObjectTagging' : 's3:PutObject', resource: objectArn });
    const source = request.headers['x-amz-copy-source'];
    if (typeof source === 'string') checks.push({ action: 's3:GetObject', resource: `arn:aws:s3:::${safeDecode(source.split('?')[0]).replace(/^\//, '')}` });
  }
  for (const check of checks) {
    const denial = authorize({ accessKeyId, ...check });
    if (denial) return denial;
  }
  return undefined;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function xmlText(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
