import { SIGNALS_TOPIC } from './events/signal.v1';

/** Budget alerts (`budget.threshold-crossed`), outside the job flow. */
export const BUDGET_ALERTS_TOPIC = 'troupe.budget.threshold-crossed';

/** Kafka topic names. Every job event has its own topic; all are keyed by job id. */
export const TOPICS = {
  jobRequested: 'troupe.job.requested',
  jobClassified: 'troupe.job.classified',
  jobGenerated: 'troupe.job.generated',
  jobValidated: 'troupe.job.validated',
  jobRejected: 'troupe.job.rejected',
  jobDeliveryAttempted: 'troupe.job.delivery-attempted',
  jobDelivered: 'troupe.job.delivered',
  jobDeliveryFailed: 'troupe.job.delivery-failed',
  jobFailed: 'troupe.job.failed',
  jobRegenerateRequested: 'troupe.job.regenerate-requested',
  jobReviewRequested: 'troupe.job.review-requested',
  reviewDecided: 'troupe.review.decided',
  jobReviewExpired: 'troupe.job.review-expired',
  jobRedeliveryRequested: 'troupe.job.redelivery-requested',
  jobStepCompleted: 'troupe.job.step-completed',
  jobCancelRequested: 'troupe.job.cancel-requested',
  jobCancelled: 'troupe.job.cancelled',
  jobCostRecorded: 'troupe.job.cost-recorded',
  jobDataEraseRequested: 'troupe.job.data-erase-requested',
} as const;

export type JobTopic = (typeof TOPICS)[keyof typeof TOPICS];

/** Every topic that carries job events (the intake read model consumes them all). */
export const JOB_TOPICS: readonly JobTopic[] = Object.values(TOPICS);

/** The five stages; each is one NestJS service and one Kafka consumer group. */
export const SERVICES = ['intake', 'classification', 'generation', 'validation', 'delivery'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Dead letters of one stage: messages it could not process, with the reason in headers. */
export function deadLetterTopic(service: ServiceName): string {
  return `troupe.dlq.${service}`;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  retentionMs: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Kafka topics outside the job flow that Troupe creates too (signals in; see `signal.v1.ts`). */
export const EXTRA_TOPICS: TopicSpec[] = [
  { name: SIGNALS_TOPIC, partitions: 3, retentionMs: 7 * DAY_MS },
  { name: BUDGET_ALERTS_TOPIC, partitions: 1, retentionMs: 30 * DAY_MS },
];

/** The topics Troupe creates at start-up (the broker's auto-creation is off). */
export function topicSpecs(partitions: number): TopicSpec[] {
  return [
    ...JOB_TOPICS.map((name) => ({ name, partitions, retentionMs: 7 * DAY_MS })),
    ...SERVICES.map((service) => ({ name: deadLetterTopic(service), partitions: 1, retentionMs: 30 * DAY_MS })),
    ...EXTRA_TOPICS,
  ];
}
