/**
 * A cron schedule: five fields (minute hour day-of-month month day-of-week), evaluated in an IANA
 * time zone. Compiled to an EventBridge Scheduler schedule with that zone.
 *
 * The scheduled time determines the partition: a daily pipeline firing at 02:00 on the 2nd runs
 * the partition of the 1st (the last complete partition), as Airflow's data interval does.
 */
export interface Schedule {
  /** Five-field cron expression, e.g. `0 2 * * *`. */
  readonly cron: string;
  /**
   * IANA time zone the expression is evaluated in, e.g. `America/New_York`.
   *
   * @default 'UTC'
   */
  readonly timezone?: string;
}

/** Properties of an S3 arrival trigger. */
export interface S3ArrivalProps {
  /**
   * Logical bucket name, resolved per stage from the stage configuration (never a literal
   * bucket name or ARN).
   */
  readonly bucket: string;
  /**
   * Only keys starting with this prefix start a run.
   *
   * @default - any key
   */
  readonly prefix?: string;
  /**
   * Only keys ending with this suffix start a run.
   *
   * @default - any key
   */
  readonly suffix?: string;
  /**
   * Regular expression applied to the (URL-decoded) object key; its named group `partition`
   * is the partition key of the run.
   *
   * @default - the partition that contains the event time
   */
  readonly partitionFromKey?: RegExp;
}

/** A run started by an object created in S3. */
export interface S3ArrivalTrigger extends S3ArrivalProps {
  readonly kind: 's3Arrival';
}

/** Any trigger. A discriminated union: switch on `kind`. */
export type Trigger = S3ArrivalTrigger;

/** Starts a run when an object is created in a bucket under a prefix and with a suffix. */
export function s3Arrival(props: S3ArrivalProps): S3ArrivalTrigger {
  return Object.freeze({ kind: 's3Arrival', ...props });
}
