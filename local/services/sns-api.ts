import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { http } from '../node-http';
import { accessKeyIdOfRequest, type RequestAuthorizer } from '../iam/authorizer';
import { serveOnLoopback } from './private/loopback';
import { dirname } from 'node:path';

/** A message published to a topic. */
export interface PublishedMessage {
  readonly messageId: string;
  readonly topicArn: string;
  readonly subject?: string;
  readonly message: string;
  readonly time: string;
}

/** An SNS API endpoint on loopback. */
export interface LocalSnsApi {
  /** `http://127.0.0.1:<port>`: give it to `AWS_ENDPOINT_URL_SNS`. */
  readonly endpoint: string;
  /** Called for every message published. Returns the unsubscribe function. */
  onPublish(listener: (message: PublishedMessage) => void): () => void;
  stop(): Promise<void>;
}

const xml = (text: string) => text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * Serves SNS `Publish` (AWS query protocol) so that the run monitor's own bundle, with an
 * unmodified `SNSClient`, delivers its alerts locally: each message is appended as one JSON line
 * to `logFile` and handed to the listeners. Email subscriptions have no local stand-in.
 */
export async function startSnsApi(props: {
  logFile: string;
  port?: number;
  /** Decides each call against its caller's role. @default - every call is allowed */
  authorize?: RequestAuthorizer;
}): Promise<LocalSnsApi> {
  const listeners = new Set<(message: PublishedMessage) => void>();
  mkdirSync(dirname(props.logFile), { recursive: true });

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = form.get('Action');
      const reply = (status: number, body: string) => {
        response.writeHead(status, { 'content-type': 'text/xml' });
        response.end(body);
      };
      const requestId = randomUUID();
      if (action !== 'Publish' || !form.get('TopicArn') || form.get('Message') === null) {
        reply(
          400,
          `<ErrorResponse><Error><Type>Sender</Type><Code>InvalidParameter</Code><Message>The local SNS API serves Publish with TopicArn and Message; got ${xml(String(action))}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        );
        return;
      }
      const denial = props.authorize?.({
        accessKeyId: accessKeyIdOfRequest(request.headers.authorization),
        action: 'sns:Publish',
        resource: form.get('TopicArn')!,
      });
      if (denial) {
        reply(403, `<ErrorResponse><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>${xml(denial)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`);
        return;
      }
      const message: PublishedMessage = {
        messageId: randomUUID(),
        topicArn: form.get('TopicArn')!,
        ...(form.get('Subject') !== null && { subject: form.get('Subject')! }),
        message: form.get('Message')!,
        time: new Date().toISOString(),
      };
      appendFileSync(props.logFile, `${JSON.stringify(message)}\n`);
      for (const listener of listeners) listener(message);
      reply(
        200,
        `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${message.messageId}</MessageId></PublishResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></PublishResponse>`,
      );
    });
  });
  const served = await serveOnLoopback(server, props.port ?? 0);
  return {
    ...served,
    onPublish(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
