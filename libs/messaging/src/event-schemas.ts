import { EVENT_CATALOG, WorkflowSnapshotSchema, type EventType } from '@troupe/contracts';
import { z } from 'zod';

type Snapshot = { ok: true; json: string } | { ok: false; issues: z.ZodIssue[] };

/** Distinct snapshot texts kept (workflow versions in use); the oldest goes first. */
const MAX_SNAPSHOTS = 256;
const snapshots = new Map<string, Snapshot>();

/**
 * A job event's pinned workflow snapshot, validated by `WorkflowSnapshotSchema` once per distinct
 * text: the same text always parses to the same result, so the result is kept and each event gets
 * a fresh copy of it (handlers may change what they get). A bad snapshot fails every time, with the
 * same issues.
 */
const CachedWorkflowSnapshot = z.unknown().transform((value, ctx) => {
  const key = JSON.stringify(value);
  let snapshot = snapshots.get(key);
  if (!snapshot) {
    const result = WorkflowSnapshotSchema.safeParse(value);
    snapshot = result.success ? { ok: true, json: JSON.stringify(result.data) } : { ok: false, issues: result.error.issues };
    if (snapshots.size >= MAX_SNAPSHOTS) snapshots.delete(snapshots.keys().next().value!);
    snapshots.set(key, snapshot);
  }
  if (!snapshot.ok) {
    for (const issue of snapshot.issues) ctx.addIssue(issue);
    return z.NEVER;
  }
  return JSON.parse(snapshot.json) as unknown;
});

const schemas = new Map<EventType, z.ZodTypeAny>();

/**
 * The schema an event's data is validated with when it is emitted or consumed: the catalogue's, with
 * the workflow snapshot that job events carry (about 2 KB, most of an event's parsing time) checked
 * once per distinct snapshot instead of once per event. Accepts and rejects exactly what the
 * catalogue's schema does.
 */
export function eventDataSchema(type: EventType): z.ZodTypeAny {
  let schema = schemas.get(type);
  if (!schema) {
    const base = EVENT_CATALOG[type].schema as z.ZodTypeAny;
    schema =
      base instanceof z.ZodObject && base.shape.workflow === WorkflowSnapshotSchema
        ? base.extend({ workflow: CachedWorkflowSnapshot })
        : base;
    schemas.set(type, schema);
  }
  return schema;
}
