/**
 * Added overhead of Troupe's model call path (router -> client -> breaker -> bulkhead -> adapter,
 * with prompt building, JSON parsing, cost and metrics) over a direct HTTP call (node:http,
 * keep-alive) to the same fake provider, at a fixed 50 ms provider latency and 100 concurrent
 * calls. Printed, never asserted.
 *
 *   npm run bench:models            # BENCH_ROUNDS=30 BENCH_CONCURRENCY=100 BENCH_LATENCY_MS=50
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { ModelStepSchema } from '@troupe/contracts';
import { DEFAULT_POLICY, ModelCatalogue, ModelClient, ModelRouter } from '@troupe/models';
import { startFakeModelProvider } from '@troupe/testing';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 100);
const LATENCY_MS = Number(process.env.BENCH_LATENCY_MS ?? 50);

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), max: s[s.length - 1] };
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** The fake provider runs in a child process, so its work does not share the measured event loop. */
async function startFakeInChild(): Promise<{ openaiBaseUrl: string; close: () => Promise<void> }> {
  const child = fork(__filename, ['--fake'], {
    execArgv: ['-r', require.resolve('./ts-register.js')],
    env: { ...process.env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(String(m)));
    child.once('exit', (code) => reject(new Error(`fake provider exited with ${code}`)));
  });
  return {
    openaiBaseUrl: `${url}/v1`,
    close: async () => {
      child.kill();
    },
  };
}

async function serveFake() {
  const fake = await startFakeModelProvider(() => ({
    latencyMs: LATENCY_MS,
    content: { reply: 'benchmark answer' },
    usage: { inputTokens: 120, outputTokens: 30 },
  }));
  fake.requests.push = () => 0; // keep no history: the benchmark sends many thousands
  // Long keep-alive, as real providers have: otherwise the client reconnects for every call and the
  // benchmark measures TCP set-up instead of the call path.
  fake.server.keepAliveTimeout = 60_000;
  process.send!(fake.url);
}

async function main() {
  const fake = await startFakeInChild();
  const catalogue = ModelCatalogue.fromObject(
    {
      providers: {
        bench: {
          kind: 'openai',
          baseUrl: fake.openaiBaseUrl,
          apiKeyEnv: 'TROUPE_BENCH_KEY',
          maxConcurrency: 1000,
        },
      },
      models: {
        'bench/model': { capabilities: { json: true }, price: { inputPerMTok: 0.15, outputPerMTok: 0.6 } },
      },
    },
    { TROUPE_BENCH_KEY: 'sk-bench' },
  );
  const router = new ModelRouter(new ModelClient(catalogue, DEFAULT_POLICY));
  const step = ModelStepSchema.parse({ model: 'bench/model', instructions: 'Reply to the ticket.' });
  const text = 'I was charged twice for my subscription this month, please refund the extra payment.';
  const classification = {
    label: 'billing',
    confidence: 0.9,
    language: 'en',
    sentiment: { score: 0, comparative: 0, label: 'neutral' as const },
    model: 'local/rules-v1',
    signals: [],
  };

  // The same request a caller would send by hand: same wire format, same body size, parsed the same.
  const directBody = JSON.stringify({
    model: 'model',
    messages: [
      { role: 'system', content: 'Reply to the ticket.' },
      { role: 'user', content: JSON.stringify({ input: text }) },
    ],
    max_tokens: 1024,
    response_format: { type: 'json_object' },
  });
  // The direct call: node:http with its own keep-alive agent, the cheapest plain client.
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const target = new URL(`${fake.openaiBaseUrl}/chat/completions`);
  const direct = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      const request = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer sk-bench',
            'content-length': Buffer.byteLength(directBody),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (c: Buffer) => chunks.push(c));
          response.on('end', () => {
            const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
              choices: { message: { content: string } }[];
            };
            JSON.parse(json.choices[0].message.content);
            resolve(performance.now() - started);
          });
        },
      );
      request.on('error', reject);
      request.end(directBody);
    });
  // For reference only: the same call with fetch (undici), which the adapters do not use.
  const viaFetch = async () => {
    const started = performance.now();
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-bench' },
      body: directBody,
    });
    const json = (await response.json()) as { choices: { message: { content: string } }[] };
    JSON.parse(json.choices[0].message.content);
    return performance.now() - started;
  };
  const troupe = async () => {
    const started = performance.now();
    await router.run({
      route: 'default',
      step,
      data: { input: { text }, classification },
      deadlineMs: 30_000,
    });
    return performance.now() - started;
  };
  const round = (fn: () => Promise<number>) => Promise.all(Array.from({ length: CONCURRENCY }, fn));

  for (let i = 0; i < 10; i++) {
    await round(direct); // warm-up: connections, JIT
    await round(troupe);
    await round(viaFetch);
  }
  // CPU time per call in this process, summed over every measured round: the overhead that does
  // not depend on how busy the machine is.
  const cpu = { direct: 0, troupe: 0, fetch: 0 };
  const measured = async (name: keyof typeof cpu, fn: () => Promise<number>) => {
    const before = process.cpuUsage();
    const times = await round(fn);
    const used = process.cpuUsage(before);
    cpu[name] += (used.user + used.system) / 1000;
    return times;
  };
  const directTimes: number[] = [];
  const troupeTimes: number[] = [];
  const overheads: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    // Alternate which goes first so neither always meets a warmer or colder process.
    let d: number[];
    let t: number[];
    if (i % 2 === 0) {
      d = await measured('direct', direct);
      t = await measured('troupe', troupe);
    } else {
      t = await measured('troupe', troupe);
      d = await measured('direct', direct);
    }
    if (i % 5 === 0) await measured('fetch', viaFetch);
    directTimes.push(...d);
    troupeTimes.push(...t);
    // Per-position differences of the sorted samples of this round: the overhead distribution.
    const ds = [...d].sort((a, b) => a - b);
    const ts = [...t].sort((a, b) => a - b);
    ts.forEach((x, k) => overheads.push(x - ds[k]));
  }
  const directCpu = cpu.direct / (ROUNDS * CONCURRENCY);
  const troupeCpu = cpu.troupe / (ROUNDS * CONCURRENCY);
  const fetchCpu = cpu.fetch / (Math.ceil(ROUNDS / 5) * CONCURRENCY);
  await fake.close();

  const d = summary(directTimes);
  const t = summary(troupeTimes);
  console.log(
    `model call overhead: ${ROUNDS} rounds x ${CONCURRENCY} concurrent calls, fake provider latency ${LATENCY_MS} ms, node ${process.version}`,
  );
  console.log(`  direct http      p50 ${ms(d.p50)}  p90 ${ms(d.p90)}  p99 ${ms(d.p99)}  max ${ms(d.max)}`);
  console.log(`  troupe router    p50 ${ms(t.p50)}  p90 ${ms(t.p90)}  p99 ${ms(t.p99)}  max ${ms(t.max)}`);
  console.log(
    `  added overhead   p50 ${ms(t.p50 - d.p50)}  p99 ${ms(t.p99 - d.p99)}   (difference of the two distributions' quantiles)`,
  );
  console.log(
    `  CPU per call     direct ${ms(directCpu)}  troupe ${ms(troupeCpu)}  added ${ms(troupeCpu - directCpu)}` +
      `   (fetch, for reference: ${ms(fetchCpu)})`,
  );
  const o = summary(overheads);
  console.log(
    `  paired by rank   p50 ${ms(o.p50)}  p99 ${ms(o.p99)}   (sorted per round, troupe[k] - direct[k])`,
  );
}

(process.argv.includes('--fake') ? serveFake() : main()).catch((error) => {
  console.error(error);
  process.exit(1);
});
