import { createHash, randomUUID } from 'node:crypto';
import type { RequestAuthorizer } from '../iam/authorizer';
import { serveAwsJson } from './private/aws-json';

/** A queue the local SQS API knows: where its messages go is the caller's business. */
export interface SqsApiQueue {
  readonly arn: string;
  readonly url: string;
  readonly name: string;
  readonly deadLetter?: { readonly targetArn: string; readonly maxReceiveCount: number };
}

/** A message sent with SendMessage: its body and its string message attributes. */
export interface SentMessage {
  readonly queueArn: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

/** An SQS API endpoint on loopback. */
export interface LocalSqsApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_SQS`. */
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** SQS's limit on a message, body and attributes together. */
const MAX_MESSAGE_BYTES = 256 * 1024;
/** And on the number of message attributes. */
const MAX_ATTRIBUTES = 10;

/**
 * Serves SQS `SendMessage` and `GetQueueAttributes` (AWS JSON 1.0 protocol, as `SQSClient` speaks
 * it) for the queues of the stage, so that the launcher's own bundle moves a message it can never
 * handle to its queue's dead-letter queue, with the reason, as it does on AWS. Each call is
 * decided against the caller's role; a message too large or a queue unknown fails as on AWS.
 *
 * @see https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html
 */
export async function startSqsApi(props: {
  readonly queues: readonly SqsApiQueue[];
  /** Receives every message sent, once accepted. */
  readonly onMessage: (message: SentMessage) => void;
  readonly port?: number;
  /** Decides each call against its caller's role. @default - every call is allowed */
  readonly authorize?: RequestAuthorizer;
}): Promise<LocalSqsApi> {
  return serveAwsJson({
    version: '1.0',
    port: props.port ?? 0,
    handle: ({ operation, input, accessKeyId }) => {
      const fail = (status: number, type: string, message: string) => ({ status, errorType: `com.amazonaws.sqs#${type}`, message });
      if (operation !== 'SendMessage' && operation !== 'GetQueueAttributes') {
        return fail(400, 'UnsupportedOperation', `The local SQS API serves SendMessage and GetQueueAttributes; got "${operation}"`);
      }
      if (!input) return fail(400, 'InvalidParameterValue', 'The request body is not JSON');
      // The stage's queue URLs are the regional ones, as the launcher builds them from ARNs.
      const queue = props.queues.find((q) => q.url === input.QueueUrl);
      if (!queue) return fail(400, 'QueueDoesNotExist', `The specified queue does not exist: ${String(input.QueueUrl)}`);
      const denial = props.authorize?.({ accessKeyId, action: `sqs:${operation}`, resource: queue.arn });
      if (denial) return fail(403, 'AccessDenied', denial);
      if (operation === 'GetQueueAttributes') return { output: { Attributes: queueAttributes(queue, input.AttributeNames) } };
      const body = input.MessageBody;
      if (typeof body !== 'string' || body === '') return fail(400, 'MissingParameter', 'The request must contain the parameter MessageBody.');
      const given = (input.MessageAttributes ?? {}) as Record<string, { DataType?: string; StringValue?: string }>;
      if (Object.keys(given).length > MAX_ATTRIBUTES) {
        return fail(400, 'InvalidParameterValue', `Number of message attributes [${Object.keys(given).length}] exceeds the allowed maximum [${MAX_ATTRIBUTES}].`);
      }
      const attributes: Record<string, string> = {};
      let bytes = Buffer.byteLength(body);
      for (const [name, value] of Object.entries(given)) {
        if (typeof value?.StringValue !== 'string') continue;
        attributes[name] = value.StringValue;
        bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? '') + Buffer.byteLength(value.StringValue);
      }
      if (bytes > MAX_MESSAGE_BYTES) {
        return fail(400, 'InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${MAX_MESSAGE_BYTES} bytes.`);
      }
      props.onMessage({ queueArn: queue.arn, body, attributes });
      // The SDK checks the body's MD5, as SQS computes it.
      return { output: { MessageId: randomUUID(), MD5OfMessageBody: createHash('md5').update(body).digest('hex') } };
    },
  });
}

function queueAttributes(queue: SqsApiQueue, names: unknown): Record<string, string> {
  const all: Record<string, string> = { QueueArn: queue.arn };
  if (queue.deadLetter) all.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: queue.deadLetter.targetArn, maxReceiveCount: queue.deadLetter.maxReceiveCount });
  const wanted = Array.isArray(names) ? names.map(String) : [];
  if (wanted.includes('All')) return all;
  return Object.fromEntries(Object.entries(all).filter(([name]) => wanted.includes(name)));
}
