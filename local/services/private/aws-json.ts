import { randomUUID } from 'node:crypto';
import { http } from '../../node-http';
import { accessKeyIdOfRequest } from '../../iam/authorizer';
import { serveOnLoopback } from './loopback';

/** A call in the AWS JSON protocol: the operation of its `X-Amz-Target`, its body, its signer. */
export interface AwsJsonRequest {
  /** `PutEvents` of `AWSEvents.PutEvents`. */
  readonly operation: string;
  /** The request body, parsed; `undefined` when it is not JSON. */
  readonly input: Record<string, unknown> | undefined;
  /** The access key id the request was signed with. */
  readonly accessKeyId: string | undefined;
}

/** The answer: a body, or an error whose type the SDK turns into its exception class. */
export type AwsJsonReply = { readonly output: unknown } | { readonly status: number; readonly errorType: string; readonly message: string };

/**
 * Serves an AWS JSON protocol API (EventBridge speaks 1.1, SQS 1.0) on loopback: each request's
 * operation and input go to `handle`, whose reply is written as the SDK expects it.
 *
 * @see https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
 */
export function serveAwsJson(props: {
  readonly version: '1.0' | '1.1';
  readonly port: number;
  readonly handle: (request: AwsJsonRequest) => AwsJsonReply;
}): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let input: Record<string, unknown> | undefined;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        input = undefined;
      }
      const target = String(request.headers['x-amz-target'] ?? '');
      let reply: AwsJsonReply;
      try {
        reply = props.handle({ operation: target.slice(target.indexOf('.') + 1), input, accessKeyId: accessKeyIdOfRequest(request.headers.authorization) });
      } catch (error) {
        // As a service's own failure: the caller's SDK reports it with this message.
        reply = { status: 500, errorType: 'InternalFailure', message: (error as Error).message };
      }
      const headers = { 'content-type': `application/x-amz-json-${props.version}`, 'x-amzn-requestid': randomUUID() };
      if ('output' in reply) {
        response.writeHead(200, headers).end(JSON.stringify(reply.output));
        return;
      }
      response
        .writeHead(reply.status, { ...headers, 'x-amzn-errortype': reply.errorType })
        .end(JSON.stringify({ __type: reply.errorType, message: reply.message }));
    });
  });
  return serveOnLoopback(server, props.port);
}
