import type { z } from 'zod';
import { BUDGET_ALERTS_TOPIC, TOPICS } from '../topics';
import { BUDGET_THRESHOLD_CROSSED_V1, BudgetThresholdCrossedV1Schema } from './budget-threshold-crossed.v1';
import { JOB_COST_RECORDED_V1, JobCostRecordedV1Schema } from './job-cost-recorded.v1';
import { JOB_DATA_ERASE_REQUESTED_V1, JobDataEraseRequestedV1Schema } from './job-data-erase-requested.v1';
import { JOB_CLASSIFIED_V1, JobClassifiedV1Schema } from './job-classified.v1';
import { JOB_DELIVERED_V1, JobDeliveredV1Schema } from './job-delivered.v1';
import { JOB_DELIVERY_ATTEMPTED_V1, JobDeliveryAttemptedV1Schema } from './job-delivery-attempted.v1';
import { JOB_DELIVERY_FAILED_V1, JobDeliveryFailedV1Schema } from './job-delivery-failed.v1';
import { JOB_FAILED_V1, JobFailedV1Schema } from './job-failed.v1';
import { JOB_GENERATED_V1, JobGeneratedV1Schema } from './job-generated.v1';
import { JOB_REJECTED_V1, JobRejectedV1Schema } from './job-rejected.v1';
import { JOB_REDELIVERY_REQUESTED_V1, JobRedeliveryRequestedV1Schema } from './job-redelivery-requested.v1';
import { JOB_REQUESTED_V1, JobRequestedV1Schema } from './job-requested.v1';
import { JOB_VALIDATED_V1, JobValidatedV1Schema } from './job-validated.v1';
import { JOB_REGENERATE_REQUESTED_V1, JobRegenerateRequestedV1Schema } from './job-regenerate-requested.v1';
import { JOB_REVIEW_EXPIRED_V1, JobReviewExpiredV1Schema } from './job-review-expired.v1';
import { JOB_REVIEW_REQUESTED_V1, JobReviewRequestedV1Schema } from './job-review-requested.v1';
import { REVIEW_DECIDED_V1, ReviewDecidedV1Schema } from './review-decided.v1';
import { JOB_STEP_COMPLETED_V1, JobStepCompletedV1Schema } from './job-step-completed.v1';
import { JOB_CANCEL_REQUESTED_V1, JobCancelRequestedV1Schema } from './job-cancel-requested.v1';
import { JOB_CANCELLED_V1, JobCancelledV1Schema } from './job-cancelled.v1';

/**
 * Every event type Troupe emits: its schema and the topic it is published on.
 * The consumer transport validates incoming data against the schema of the `ce_type` header.
 */
export const EVENT_CATALOG = {
  [JOB_REQUESTED_V1]: { topic: TOPICS.jobRequested, schema: JobRequestedV1Schema },
  [JOB_CLASSIFIED_V1]: { topic: TOPICS.jobClassified, schema: JobClassifiedV1Schema },
  [JOB_GENERATED_V1]: { topic: TOPICS.jobGenerated, schema: JobGeneratedV1Schema },
  [JOB_VALIDATED_V1]: { topic: TOPICS.jobValidated, schema: JobValidatedV1Schema },
  [JOB_REJECTED_V1]: { topic: TOPICS.jobRejected, schema: JobRejectedV1Schema },
  [JOB_DELIVERY_ATTEMPTED_V1]: { topic: TOPICS.jobDeliveryAttempted, schema: JobDeliveryAttemptedV1Schema },
  [JOB_DELIVERED_V1]: { topic: TOPICS.jobDelivered, schema: JobDeliveredV1Schema },
  [JOB_DELIVERY_FAILED_V1]: { topic: TOPICS.jobDeliveryFailed, schema: JobDeliveryFailedV1Schema },
  [JOB_FAILED_V1]: { topic: TOPICS.jobFailed, schema: JobFailedV1Schema },
  [JOB_REGENERATE_REQUESTED_V1]: { topic: TOPICS.jobRegenerateRequested, schema: JobRegenerateRequestedV1Schema },
  [JOB_REVIEW_REQUESTED_V1]: { topic: TOPICS.jobReviewRequested, schema: JobReviewRequestedV1Schema },
  [REVIEW_DECIDED_V1]: { topic: TOPICS.reviewDecided, schema: ReviewDecidedV1Schema },
  [JOB_REVIEW_EXPIRED_V1]: { topic: TOPICS.jobReviewExpired, schema: JobReviewExpiredV1Schema },
  [JOB_REDELIVERY_REQUESTED_V1]: { topic: TOPICS.jobRedeliveryRequested, schema: JobRedeliveryRequestedV1Schema },
  [JOB_STEP_COMPLETED_V1]: { topic: TOPICS.jobStepCompleted, schema: JobStepCompletedV1Schema },
  [JOB_CANCEL_REQUESTED_V1]: { topic: TOPICS.jobCancelRequested, schema: JobCancelRequestedV1Schema },
  [JOB_CANCELLED_V1]: { topic: TOPICS.jobCancelled, schema: JobCancelledV1Schema },
  [JOB_COST_RECORDED_V1]: { topic: TOPICS.jobCostRecorded, schema: JobCostRecordedV1Schema },
  [JOB_DATA_ERASE_REQUESTED_V1]: { topic: TOPICS.jobDataEraseRequested, schema: JobDataEraseRequestedV1Schema },
  [BUDGET_THRESHOLD_CROSSED_V1]: { topic: BUDGET_ALERTS_TOPIC, schema: BudgetThresholdCrossedV1Schema },
} as const;

export type EventType = keyof typeof EVENT_CATALOG;
export type EventData<T extends EventType> = z.infer<(typeof EVENT_CATALOG)[T]['schema']>;

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENT_CATALOG, type);
}

/** An event a stage wants to emit: the outbox adds the envelope and the trace context. */
export type OutgoingEvent = {
  [T in EventType]: { type: T; data: EventData<T> };
}[EventType];
