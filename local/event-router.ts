import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { DEAD_LETTER_ATTRIBUTES } from '../lib/compile/contract';
import type { InvokeResult, LocalEventSourceMapping, LocalQueue, LocalRuleTarget, LocalStage } from './engine';
import { matchesPattern } from './services/event-pattern';

/** Something the router did, for the CLI to print. */
export type RouterNotice =
  | { readonly kind: 'delivered'; readonly rule: string; readonly target: string }
  | { readonly kind: 'dead-lettered'; readonly source: string; readonly reason: string; readonly file: string }
  | { readonly kind: 'error'; readonly message: string };

/** Properties of an {@link EventRouter}. */
export interface EventRouterProps {
  readonly stage: LocalStage;
  /** Invokes a function of the stage by ARN (Lambda's Invoke). */
  readonly invoke: (functionArn: string, event: unknown) => Promise<InvokeResult>;
  /** Dead-lettered messages are appended to `<deadLetterDir>/<queue or rule>.jsonl`. */
  readonly deadLetterDir: string;
  /**
   * Delay before a failed message is received again, instead of the queue's visibility timeout
   * (minutes on AWS; a local run should not wait that long).
   *
   * @default 100
   */
  readonly redeliveryDelayMs?: number;
  readonly notify?: (notice: RouterNotice) => void;
}

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  /** Called once the message is consumed or dead-lettered. */
  readonly done: () => void;
}

interface QueueState {
  /** Messages waiting to be received, oldest first. */
  readonly visible: Message[];
  /** Batches being processed by the consumer. */
  inFlight: number;
}

/** Batches a queue's consumer processes at once: Lambda's SQS event source starts with five pollers. */
const POLLERS = 5;

/** Lambda's asynchronous invocation retries a failed event twice. */
const ASYNC_INVOKE_ATTEMPTS = 3;

/**
 * The event buses, the SQS queues and the event source mappings of a stage, in-process:
 * events are matched against the rule patterns of the template and delivered to the rules'
 * targets (queues and functions); queues feed their functions in batches, receive failed messages
 * again, and move them to their dead-letter queue after `maxReceiveCount` receives, so a bad
 * event is never dropped silently nor retried forever.
 */
export class EventRouter {
  private readonly pending = new Set<Promise<void>>();
  private readonly queueStates = new Map<string, QueueState>();
  private readonly redeliveryDelayMs: number;

  constructor(private readonly props: EventRouterProps) {
    this.redeliveryDelayMs = props.redeliveryDelayMs ?? 100;
  }

  /** Puts an event on a bus (PutEvents): only the rules of that bus see it. Returns how many rules matched it. */
  publish(event: Record<string, unknown>, eventBusName = 'default'): number {
    let matched = 0;
    for (const rule of this.props.stage.rules) {
      if (!rule.enabled || !rule.eventPattern || rule.eventBusName !== eventBusName) continue;
      let matches: boolean;
      try {
        matches = matchesPattern(rule.eventPattern, event);
      } catch (error) {
        this.notify({ kind: 'error', message: `Rule ${rule.name}: ${(error as Error).message}` });
        continue;
      }
      if (!matches) continue;
      matched++;
      for (const target of rule.targets) {
        this.notify({ kind: 'delivered', rule: rule.name, target: target.arn });
        this.track(this.deliver(rule.name, target, event));
      }
    }
    return matched;
  }

  /**
   * Sends a message to a queue of the stage (SQS SendMessage): its consumer receives it as any
   * other. A queue without a consumer is a dead-letter queue: the message is kept there, with the
   * reason its sender gave in the `DEAD_LETTER_ATTRIBUTES.reason` message attribute.
   */
  send(queueArn: string, body: string, attributes: Readonly<Record<string, string>> = {}): void {
    const queue = this.props.stage.queues.find((q) => q.arn === queueArn);
    if (!queue) throw new Error(`No queue ${queueArn} in the local stage`);
    if (!this.consumerOf(queue)) {
      const reason = attributes[DEAD_LETTER_ATTRIBUTES.reason] ?? `sent to ${queue.name}, which has no consumer in the stage`;
      this.deadLetter(queue.name, body, reason, attributes);
      return;
    }
    this.track(this.enqueue(queue, body));
  }

  private consumerOf(queue: LocalQueue): LocalEventSourceMapping | undefined {
    return this.props.stage.eventSourceMappings.find((m) => m.enabled && m.eventSourceArn === queue.arn);
  }

  /** Resolves once every event published so far has been fully handled, retries included. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<void>): void {
    const tracked = work.catch((error: unknown) => this.notify({ kind: 'error', message: String((error as Error)?.message ?? error) }));
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
  }

  private async deliver(rule: string, target: LocalRuleTarget, event: Record<string, unknown>): Promise<void> {
    if (target.inputPath !== undefined || target.inputTransformer !== undefined) {
      throw new Error(`Rule ${rule}, target ${target.id}: InputPath and InputTransformer are not supported locally`);
    }
    const input = target.input !== undefined ? JSON.parse(target.input) : event;
    const queue = this.props.stage.queues.find((q) => q.arn === target.arn);
    if (queue) return this.enqueue(queue, JSON.stringify(input));
    if (this.props.stage.findFunction(target.arn)) {
      let last: InvokeResult | undefined;
      for (let attempt = 1; attempt <= ASYNC_INVOKE_ATTEMPTS; attempt++) {
        last = await this.props.invoke(target.arn, input);
        if (last.ok) return;
      }
      const reason = last && !last.ok ? `${last.errorType}: ${last.errorMessage}` : 'unknown';
      this.deadLetter(`rule-${rule}`, JSON.stringify(input), `function ${target.arn} failed ${ASYNC_INVOKE_ATTEMPTS} times: ${reason}`);
      return;
    }
    throw new Error(`Rule ${rule}: its target ${target.arn} is neither a queue nor a function of the stage; the local runtime cannot deliver to it`);
  }

  /** Resolves once the message is consumed or dead-lettered. */
  private enqueue(queue: LocalQueue, body: string): Promise<void> {
    const mapping = this.consumerOf(queue);
    if (!mapping) {
      this.deadLetter(queue.name, body, `queue ${queue.name} has no consumer in the stage`);
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      this.offer(queue, mapping, { messageId: randomUUID(), body, sentAt: Date.now(), receiveCount: 0, done });
    });
  }

  /**
   * Makes a message visible: the queue's consumer receives it in a batch of up to the mapping's
   * batch size, with at most {@link POLLERS} batches in flight per queue, as Lambda's SQS pollers
   * do, so that a burst waits in the queue rather than starting thousands of invocations at once.
   */
  private offer(queue: LocalQueue, mapping: LocalEventSourceMapping, message: Message): void {
    let state = this.queueStates.get(queue.arn);
    if (!state) this.queueStates.set(queue.arn, (state = { visible: [], inFlight: 0 }));
    state.visible.push(message);
    this.poll(queue, mapping, state);
  }

  private poll(queue: LocalQueue, mapping: LocalEventSourceMapping, state: QueueState): void {
    while (state.inFlight < POLLERS && state.visible.length > 0) {
      const batch = state.visible.splice(0, Math.max(1, mapping.batchSize));
      state.inFlight++;
      void this.receiveBatch(queue, mapping, batch)
        .catch((error: unknown) => this.notify({ kind: 'error', message: String((error as Error)?.message ?? error) }))
        .finally(() => {
          state.inFlight--;
          this.poll(queue, mapping, state);
        });
    }
  }

  /** Delivers one batch; failed messages become visible again after a delay, or move to the dead-letter queue. */
  private async receiveBatch(queue: LocalQueue, mapping: LocalEventSourceMapping, batch: Message[]): Promise<void> {
    for (const message of batch) message.receiveCount++;
    const failed = await this.receive(queue, mapping.functionName, mapping.reportBatchItemFailures, batch);
    for (const message of batch) {
      const reason = failed.get(message.messageId);
      if (reason === undefined) {
        message.done();
      } else if (queue.deadLetter && message.receiveCount >= queue.deadLetter.maxReceiveCount) {
        const dlq = this.props.stage.queues.find((q) => q.arn === queue.deadLetter!.targetArn);
        this.deadLetter(
          dlq?.name ?? queue.deadLetter.targetArn,
          message.body,
          `received ${message.receiveCount} times from ${queue.name} without success: ${reason}`,
        );
        message.done();
      } else {
        setTimeout(() => this.offer(queue, mapping, message), this.redeliveryDelayMs * message.receiveCount);
      }
    }
  }

  /** Delivers a batch; returns why each failed message failed, by message id. */
  private async receive(queue: LocalQueue, functionName: string, partialFailures: boolean, batch: readonly Message[]): Promise<Map<string, string>> {
    const records = batch.map(
      (message): SQSRecord => ({
        messageId: message.messageId,
        receiptHandle: randomUUID(),
        body: message.body,
        attributes: {
          ApproximateReceiveCount: String(message.receiveCount),
          SentTimestamp: String(message.sentAt),
          SenderId: 'events.amazonaws.com',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: queue.arn,
        awsRegion: this.props.stage.environment.region,
      }),
    );
    const event: SQSEvent = { Records: records };
    const result = await this.props.invoke(functionName, event);
    if (!result.ok) return new Map(batch.map((m) => [m.messageId, `${result.errorType}: ${result.errorMessage}`]));
    const failures = partialFailures ? ((result.payload as { batchItemFailures?: { itemIdentifier: string }[] } | null)?.batchItemFailures ?? []) : [];
    return new Map(failures.map((f) => [f.itemIdentifier, 'reported as a batch item failure']));
  }

  private deadLetter(name: string, body: string, reason: string, attributes?: Readonly<Record<string, string>>): void {
    mkdirSync(this.props.deadLetterDir, { recursive: true });
    const file = join(this.props.deadLetterDir, `${name}.jsonl`);
    appendFileSync(file, `${JSON.stringify({ time: new Date().toISOString(), reason, body, ...(attributes && { attributes }) })}\n`);
    this.notify({ kind: 'dead-lettered', source: name, reason, file });
  }

  private notify(notice: RouterNotice): void {
    this.props.notify?.(notice);
  }
}
