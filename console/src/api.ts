/** The API as the console uses it: same origin, the pasted key as a Bearer token. */
const KEY_STORAGE = 'troupe.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Kept for the tab's life only (sessionStorage): closing the tab signs out.
export const storedKey = () => sessionStorage.getItem(KEY_STORAGE);
export const storeKey = (key: string | null) => (key ? sessionStorage.setItem(KEY_STORAGE, key) : sessionStorage.removeItem(KEY_STORAGE));

export async function api<T>(path: string, init: { method?: string; body?: unknown; key?: string } = {}): Promise<T> {
  const key = init.key ?? storedKey() ?? '';
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${key}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = body?.error ?? {};
    const details = (error.details ?? []) as { path: string; message: string }[];
    const message = [error.message ?? response.statusText, ...details.map((d) => `${d.path || '(root)'}: ${d.message}`)].join('; ');
    throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, message);
  }
  return body as T;
}

export const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') search.set(k, String(v));
  const s = search.toString();
  return s ? `?${s}` : '';
};

export interface Principal {
  tenantId: string;
  role: 'submitter' | 'reviewer' | 'admin';
}
export interface ConsoleConfig {
  principal: Principal;
  jaegerUrl: string | null;
}
export interface Attempt {
  model: string;
  try: number;
  outcome: 'succeeded' | 'failed';
  errorKind?: string;
  error?: string;
  latencyMs: number;
  costUsd: number;
}
export interface Decision {
  action: string;
  model: string;
  reason: string;
}
export interface Step {
  id: string;
  kind: 'model' | 'transform';
  status: string;
  run: number;
  reason?: string;
  code?: string;
  model?: string;
  route?: string;
  strategy?: string;
  startedAt?: string;
  latencyMs: number;
  costUsd: number;
  usage?: { inputTokens: number; outputTokens: number };
  attempts?: Attempt[];
  decisions?: Decision[];
}
export interface TimelineEntry {
  eventId: string;
  type: string;
  source: string;
  time: string;
  summary: string;
}
export interface Job {
  id: string;
  workflow: { id: string; version: number };
  status: string;
  outcome: string | null;
  result?: unknown;
  errors?: { code: string; message: string; path?: string }[];
  costUsd?: number;
  steps?: Record<string, Step>;
  metadata: Record<string, string>;
  label?: string;
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
  timeline?: TimelineEntry[];
}
export interface Review {
  id: string;
  jobId: string;
  workflow: { id: string; version: number };
  status: string;
  label: string;
  confidence: number;
  output: unknown;
  outputSchema: Record<string, unknown>;
  input: { text: string };
  heldBecause: string[];
  findings: { code: string; message: string; path?: string }[];
  dueAt: string;
  decision: { decision: string; comment?: string; decidedAt: string } | null;
  requestedAt: string;
}
export interface DeadLetter {
  id: string;
  stage: string;
  originalTopic: string;
  code: string;
  reason: string;
  attempts: number | null;
  jobId: string | null;
  tenantId: string | null;
  eventType: string | null;
  deadLetteredAt: string;
  replayCount: number;
  lastReplayedAt: string | null;
  value: string;
  headers?: Record<string, string>;
}
export interface WorkflowSummary {
  id: string;
  version: number;
  description: string;
  labels: string[];
  outputSchema: Record<string, unknown>;
  steps: { id: string; kind: string; needs: string[]; models: string[] }[];
}
export interface UsageGroup {
  key: string;
  jobs: number;
  succeeded: number;
  failed: number;
  tokens: { input: number; output: number };
  costUsd: number;
  costPerSuccessfulJobUsd: number | null;
  latencyMs: { p50: number; p95: number };
}
export interface Usage {
  from: string;
  to: string;
  groupBy: string;
  groups: UsageGroup[];
}
export const JOB_STATUSES = [
  'requested',
  'classified',
  'generated',
  'awaiting_review',
  'validated',
  'rejected',
  'delivered',
  'delivery_failed',
  'failed',
  'cancelled',
];

// Replays: the contract's own types (type-only: nothing of the server's code reaches the bundle).
export type { ReplayComparison, ReplayList, ReplayReport, ReplayTarget, ReplayView } from '@troupe/contracts';
