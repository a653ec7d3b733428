/**
 * DynamoDB's JSON API, posted as it is to the local DynamoDB on a kept-alive loopback connection.
 *
 * Written here rather than taken from the AWS SDK for two callers: the engine's DynamoDB Tasks,
 * whose Parameters are already the wire format (Step Functions does not go through the
 * JavaScript SDK either), and the reads that every command's start makes (is the table there,
 * is any partition RUNNING). The SDK's signing and middleware cost more than a local request, and
 * loading the SDK is about 40 ms of a warm `sluice run`'s path to its first task.
 */
import type { Agent } from 'node:http';
import { http } from './node-http';

/** What the service answered: its status, request id and JSON body (an error's `__type` and message). */
export interface DynamoJsonResponse {
  readonly status: number;
  readonly requestId: string;
  readonly body: Record<string, unknown>;
}

/** Thrown by {@link DynamoJsonClient.call} for an error response; `name` is the exception's (`ResourceNotFoundException`). */
export class DynamoJsonError extends Error {
  constructor(
    name: string,
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = name;
  }
}

/** A client of one local DynamoDB endpoint, for requests of DynamoDB's JSON API (version 2012-08-10). */
export class DynamoJsonClient {
  private readonly agent: Agent = new http.Agent({ keepAlive: true });
  private readonly url: URL;
  private readonly authorization: string;

  constructor(endpoint: string, region: string) {
    this.url = new URL(endpoint);
    // The local DynamoDB requires a signature's presence, not its validity.
    this.authorization = `AWS4-HMAC-SHA256 Credential=local/20000101/${region}/dynamodb/aws4_request, SignedHeaders=host, Signature=local`;
  }

  /** Posts `input` (the wire format) to `operation` (`GetItem`), and returns the answer, an error included. */
  send(operation: string, input: unknown): Promise<DynamoJsonResponse> {
    const payload = JSON.stringify(input ?? {});
    return new Promise((resolve, reject) => {
      const request = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'content-length': Buffer.byteLength(payload),
            'x-amz-target': `DynamoDB_20120810.${operation}`,
            'x-amz-date': '20000101T000000Z',
            authorization: this.authorization,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            try {
              const text = Buffer.concat(chunks).toString('utf8');
              resolve({
                status: response.statusCode ?? 500,
                requestId: String(response.headers['x-amzn-requestid'] ?? ''),
                body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
              });
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.on('error', reject);
      request.end(payload);
    });
  }

  /** {@link send}, resolving with the body of a success and failing with a {@link DynamoJsonError} otherwise. */
  async call(operation: string, input: unknown): Promise<Record<string, unknown>> {
    const { status, body } = await this.send(operation, input);
    if (status === 200) return body;
    const { name, message } = dynamoJsonError(body);
    throw new DynamoJsonError(name, `${operation}: ${message}`, status);
  }

  /** Closes the kept-alive connections. */
  destroy(): void {
    this.agent.destroy();
  }
}

/** The exception's name and message of an error body (`{ __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', message }`). */
export function dynamoJsonError(body: Record<string, unknown>): { name: string; message: string } {
  const type = String(body.__type ?? 'AmazonDynamoDBException');
  const name = type.slice(type.lastIndexOf('#') + 1);
  return { name, message: String(body.message ?? body.Message ?? name) };
}
