import { listenOnLoopback } from './http-server';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
}

interface OtlpAnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}

interface OtlpTraceRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpAnyValue }[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: { key: string; value: OtlpAnyValue }[];
      }[];
    }[];
  }[];
}

const valueOf = (v: OtlpAnyValue) => v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;

/**
 * An OTLP/HTTP receiver (JSON encoding: services run with OTEL_EXPORTER_OTLP_PROTOCOL=http/json),
 * standing in for Jaeger's collector so tests can assert on the spans services export.
 */
export async function startOtlpReceiver() {
  const spans: CollectedSpan[] = [];
  const { url, close } = await listenOnLoopback((req, body, res) => {
    if (req.url !== '/v1/traces') return void res.writeHead(404).end();
    const request = JSON.parse(body.toString('utf8')) as OtlpTraceRequest;
    for (const rs of request.resourceSpans ?? []) {
      const resource = Object.fromEntries((rs.resource?.attributes ?? []).map((a) => [a.key, valueOf(a.value)]));
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            parentSpanId: s.parentSpanId || undefined,
            name: s.name,
            kind: s.kind,
            service: String(resource['service.name'] ?? ''),
            attributes: Object.fromEntries((s.attributes ?? []).map((a) => [a.key, valueOf(a.value)])),
          });
        }
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  return { endpoint: url, spans, close };
}
