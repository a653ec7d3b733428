import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on loopback in front of a local AWS JSON-protocol service (DynamoDB, Step
 * Functions) that answers a chosen share of chosen operations with the service's throttling
 * error instead of forwarding them, as AWS does under load. The request never reaches the service,
 * so a throttled write has not happened: exactly what a client retry must cope with.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** Share (0 to 1) of the matching requests to throttle from now on. */
  rate: number;
  /** Requests answered with a throttling error so far. */
  readonly injected: number;
  /** Requests forwarded so far. */
  readonly forwarded: number;
  stop(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  readonly target: string;
  /** The operations (`X-Amz-Target` after the dot) that may be throttled. */
  readonly operations: readonly string[];
  /** The error's `__type`, e.g. `com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException`. */
  readonly errorType: string;
  readonly random: () => number;
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  let injected = 0;
  let forwarded = 0;
  const state = { rate: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      if (options.operations.includes(operation) && options.random() < state.rate) {
        injected++;
        const body = JSON.stringify({ __type: options.errorType, message: 'Rate exceeded (injected by the fault suite)' });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': options.errorType.split('#').pop()! });
        res.end(body);
        return;
      }
      forwarded++;
      const upstream = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get rate() {
      return state.rate;
    },
    set rate(value: number) {
      state.rate = value;
    },
    get injected() {
      return injected;
    },
    get forwarded() {
      return forwarded;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
