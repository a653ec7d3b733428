import { randomUUID } from 'node:crypto';
import { http } from '../../node-http';
import { accessKeyIdOfRequest } from '../../iam/authorizer';
import { serveOnLoopback } from './loopback';

/** A call in the AWS restJson1 protocol: the operation is in the method and path. */
export interface RestJsonRequest {
  readonly method: string;
  /** The path, URL-decoded segment by segment (`/2015-03-31/functions/<name>/invocations`). */
  readonly segments: readonly string[];
  readonly query: URLSearchParams;
  readonly body: Buffer;
  /** The access key id the request was signed with. */
  readonly accessKeyId: string | undefined;
}

/** The answer: a JSON body (or raw bytes), or an error whose type the SDK turns into its exception class. */
export type RestJsonReply =
  | { readonly status?: number; readonly output: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status?: number; readonly raw: Buffer | string; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly errorType: string; readonly message: string };

/**
 * Serves an AWS restJson1 API (Lambda, EventBridge Scheduler) on loopback: each request goes to
 * `handle`, whose reply is written as the SDK expects it (errors carry `x-amzn-errortype`).
 *
 * @see https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html
 */
export function serveRestJson(props: {
  readonly port: number;
  readonly handle: (request: RestJsonRequest) => Promise<RestJsonReply> | RestJsonReply;
}): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      void (async () => {
        const url = new URL(request.url ?? '/', 'http://localhost');
        let reply: RestJsonReply;
        try {
          reply = await props.handle({
            method: request.method ?? 'GET',
            segments: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
            query: url.searchParams,
            body: Buffer.concat(chunks),
            accessKeyId: accessKeyIdOfRequest(request.headers.authorization),
          });
        } catch (error) {
          // As a service's own failure: the caller's SDK reports it with this message.
          reply = { status: 500, errorType: 'ServiceException', message: (error as Error).message };
        }
        const headers = { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() };
        if ('errorType' in reply) {
          response.writeHead(reply.status, { ...headers, 'x-amzn-errortype': reply.errorType }).end(JSON.stringify({ message: reply.message, Message: reply.message }));
        } else if ('raw' in reply) {
          response.writeHead(reply.status ?? 200, { ...headers, ...reply.headers }).end(reply.raw);
        } else {
          response.writeHead(reply.status ?? 200, { ...headers, ...reply.headers }).end(JSON.stringify(reply.output));
        }
      })();
    });
  });
  return serveOnLoopback(server, props.port);
}
