import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../lib/compile/contract';

/** A message received from a queue, as an SQS event record carries it. */
export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  /** The ARN of the queue it came from. */
  readonly eventSourceARN: string;
}

/** Why a message can never start a run. */
export interface Rejection {
  readonly kind: 'malformed' | 'invalid';
  readonly reason: string;
}

/** SQS's limit on a message attribute's value is the message's; a reason needs far less. */
const MAX_REASON_LENGTH = 1_000;

/**
 * Moves a message that can never start a run to its queue's dead-letter queue at once, with why
 * (`DEAD_LETTER_ATTRIBUTES`), instead of letting it fail every receive until SQS's redrive moves it
 * there without a word. The dead-letter queue is the one of the source queue's redrive policy,
 * read once per queue; the caller deletes the message from its queue only once it was sent here,
 * so a failure to send leaves it to the redrive, never lost.
 */
export class DeadLetters {
  private readonly targets = new Map<string, Promise<string | undefined>>();

  constructor(private readonly sqs: Pick<SQSClient, 'send'>) {}

  /**
   * Whether the message is now in its dead-letter queue; `false` when its queue has none, or when
   * its body is empty (SQS sends no empty body, so only a local test makes one: the redrive keeps it).
   */
  async send(message: ReceivedMessage, rejection: Rejection): Promise<boolean> {
    if (message.body === '') return false;
    const target = await this.deadLetterQueueOf(message.eventSourceARN);
    if (!target) return false;
    const attribute = (value: string) => ({ DataType: 'String', StringValue: value });
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: target,
        MessageBody: message.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.reason]: attribute(rejection.reason.slice(0, MAX_REASON_LENGTH) || rejection.kind),
          [DEAD_LETTER_ATTRIBUTES.kind]: attribute(rejection.kind),
          [DEAD_LETTER_ATTRIBUTES.sourceQueue]: attribute(message.eventSourceARN),
          [DEAD_LETTER_ATTRIBUTES.messageId]: attribute(message.messageId),
        },
      }),
    );
    return true;
  }

  private deadLetterQueueOf(queueArn: string): Promise<string | undefined> {
    let target = this.targets.get(queueArn);
    if (!target) {
      target = this.readRedrivePolicy(queueArn);
      // A failed read is asked again next time.
      target.catch(() => this.targets.delete(queueArn));
      this.targets.set(queueArn, target);
    }
    return target;
  }

  private async readRedrivePolicy(queueArn: string): Promise<string | undefined> {
    const { Attributes } = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrlOf(queueArn), AttributeNames: ['RedrivePolicy'] }));
    const policy = Attributes?.RedrivePolicy;
    if (!policy) return undefined;
    const { deadLetterTargetArn } = JSON.parse(policy) as { deadLetterTargetArn?: string };
    return deadLetterTargetArn ? queueUrlOf(deadLetterTargetArn) : undefined;
  }
}

/** `arn:aws:sqs:<region>:<account>:<name>` → `https://sqs.<region>.amazonaws.com/<account>/<name>`. */
export function queueUrlOf(queueArn: string): string {
  const [, partition, , region, account, name] = queueArn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}
