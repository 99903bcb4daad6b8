import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { listenOnLoopback } from './http-server';

/** What the fake answers to one request. Everything is optional: the default is a quick 200. */
export interface FakeReply {
  /** HTTP status; non-2xx answers carry the provider's error body. Default 200. */
  status?: number;
  /** Delay before answering. */
  latencyMs?: number;
  /** `Retry-After` header value (seconds), e.g. with a 429. */
  retryAfter?: number;
  /** Never answer (until the client gives up or the server closes). */
  hang?: boolean;
  /** `body`: a 200 whose HTTP body is not JSON; `content`: valid wire JSON whose model text is not JSON. */
  malformed?: 'body' | 'content';
  /** The model's answer; objects are sent as JSON text. Default `{"text":"fake answer"}`. */
  content?: string | Record<string, unknown>;
  /** Added to an object `content` as its `confidence` field. */
  confidence?: number;
  /** Usage to report; `null` leaves it out of the response. Default 10 in, 5 out. */
  usage?: { inputTokens: number; outputTokens: number } | null;
  finishReason?: string;
  errorMessage?: string;
}

export interface FakeRequest {
  format: 'openai' | 'anthropic';
  /** Path and query as received. */
  url: string;
  model: string;
  body: any;
  headers: IncomingHttpHeaders;
  /** 0-based position among all requests this fake received. */
  index: number;
  receivedAt: number;
  /** When the client gave up on the request (closed it before the answer): an aborted call. */
  abortedAt?: number;
  /** When the fake answered. */
  answeredAt?: number;
}

export type FakeScript = (request: FakeRequest) => FakeReply | Promise<FakeReply>;

const OPENAI_FINISH: Record<string, string> = { stop: 'stop', length: 'length' };
const ANTHROPIC_FINISH: Record<string, string> = { stop: 'end_turn', length: 'max_tokens' };

/**
 * A model provider over real HTTP, speaking the OpenAI Chat Completions
 * (`POST /v1/chat/completions`) and Anthropic Messages (`POST /v1/messages`) wire formats,
 * scripted per request. Use `openaiBaseUrl` / `anthropicBaseUrl` as the providers' base URLs.
 */
export async function startFakeModelProvider(initial?: FakeScript) {
  let script: FakeScript = initial ?? (() => ({}));
  const requests: FakeRequest[] = [];
  const queues = new Map<string, FakeReply[]>();
  let counter = 0;

  const server = await listenOnLoopback(async (req, raw, res) => {
    // Any path ending in /chat/completions is the OpenAI format (Azure-style deployment paths too).
    const path = new URL(req.url ?? '/', 'http://fake').pathname;
    const format = path.endsWith('/chat/completions')
      ? 'openai'
      : path === '/v1/messages'
        ? 'anthropic'
        : undefined;
    if (req.method !== 'POST' || !format) {
      res
        .writeHead(404, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'no such route' } }));
      return;
    }
    let body: any;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { message: 'body is not JSON' } }));
      return;
    }
    const request: FakeRequest = {
      format,
      url: req.url ?? '',
      model: String(body.model),
      body,
      headers: req.headers,
      index: counter++,
      receivedAt: Date.now(),
    };
    requests.push(request);
    res.on('close', () => {
      if (res.writableFinished) request.answeredAt ??= Date.now();
      else request.abortedAt = Date.now();
    });
    const queued = queues.get(request.model);
    const reply =
      queued && queued.length > 0 ? (queued.length > 1 ? queued.shift()! : queued[0]) : await script(request);
    if (reply.hang) return; // the socket stays open until the client aborts or the fake closes
    // Unref'd: a delayed answer to a request the client gave up on must not keep a test process alive.
    if (reply.latencyMs) await new Promise((r) => setTimeout(r, reply.latencyMs).unref());
    if (request.abortedAt) return;
    answer(res, request, reply);
  });

  function answer(res: ServerResponse, request: FakeRequest, reply: FakeReply) {
    const status = reply.status ?? 200;
    const id = `fake-${request.index}`;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    headers[request.format === 'openai' ? 'x-request-id' : 'request-id'] = `req_${id}`;
    if (reply.retryAfter !== undefined) headers['retry-after'] = String(reply.retryAfter);
    if (status >= 300) {
      const message = reply.errorMessage ?? `fake error ${status}`;
      const error =
        request.format === 'openai'
          ? { error: { message, type: status === 429 ? 'rate_limit_exceeded' : 'server_error', code: null } }
          : { type: 'error', error: { type: status === 429 ? 'rate_limit_error' : 'api_error', message } };
      res.writeHead(status, headers).end(JSON.stringify(error));
      return;
    }
    if (reply.malformed === 'body') {
      res.writeHead(200, headers).end('{"choices": [ this is not json');
      return;
    }
    let content: string;
    if (reply.malformed === 'content') content = 'Sure! Here is your answer: {not json';
    else if (typeof reply.content === 'string') content = reply.content;
    else {
      const object = { ...(reply.content ?? { text: 'fake answer' }) };
      if (reply.confidence !== undefined) object.confidence = reply.confidence;
      content = JSON.stringify(object);
    }
    const usage = reply.usage === undefined ? { inputTokens: 10, outputTokens: 5 } : reply.usage;
    const finish = reply.finishReason ?? 'stop';
    const payload =
      request.format === 'openai'
        ? {
            id: `chatcmpl-${id}`,
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: request.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content },
                finish_reason: OPENAI_FINISH[finish] ?? finish,
              },
            ],
            ...(usage
              ? {
                  usage: {
                    prompt_tokens: usage.inputTokens,
                    completion_tokens: usage.outputTokens,
                    total_tokens: usage.inputTokens + usage.outputTokens,
                  },
                }
              : {}),
          }
        : {
            id: `msg_${id}`,
            type: 'message',
            role: 'assistant',
            model: request.model,
            content: [{ type: 'text', text: content }],
            stop_reason: ANTHROPIC_FINISH[finish] ?? finish,
            stop_sequence: null,
            ...(usage
              ? { usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens } }
              : {}),
          };
    res.writeHead(200, headers).end(JSON.stringify(payload));
  }

  return {
    /** The HTTP server, e.g. to raise `keepAliveTimeout` for a benchmark. */
    server: server.server,
    url: server.url,
    openaiBaseUrl: `${server.url}/v1`,
    anthropicBaseUrl: server.url,
    requests,
    /** Replaces the script for requests that have no queued reply. */
    script(next: FakeScript) {
      script = next;
    },
    /** Replies for one model, in order; the last one repeats. */
    queue(model: string, ...replies: FakeReply[]) {
      queues.set(model, replies);
    },
    /** Forgets the requests seen and the queued replies. */
    reset() {
      requests.length = 0;
      queues.clear();
      script = initial ?? (() => ({}));
    },
    close: server.close,
  };
}
export type FakeModelProvider = Awaited<ReturnType<typeof startFakeModelProvider>>;
