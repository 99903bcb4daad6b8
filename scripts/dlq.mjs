#!/usr/bin/env node
// Dead letters from the command line, through intake's admin API (an operator's key):
//   npm run dlq -- list [--stage <stage>] [--code <CODE>] [--pending] [--limit <n>]
//   npm run dlq -- show <id>
//   npm run dlq -- replay <id> [<id>...]
// TROUPE_API_URL (default http://127.0.0.1:3000) and TROUPE_API_KEY (an admin key; default the
// local development key) say where and who.
const base = (process.env.TROUPE_API_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
const key = process.env.TROUPE_API_KEY ?? 'troupe-local-dev-key';
const [command, ...args] = process.argv.slice(2);

async function call(method, path) {
  const response = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    console.error(
      `${method} ${path}: ${response.status} ${body.error?.code ?? ''} ${body.error?.message ?? ''}`,
    );
    process.exit(1);
  }
  return body;
}

function option(name) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

async function main() {
  if (command === 'list') {
    const query = new URLSearchParams();
    for (const name of ['stage', 'code', 'limit']) if (option(name)) query.set(name, option(name));
    if (args.includes('--pending')) query.set('pending', 'true');
    const { items } = await call('GET', `/v1/admin/dead-letters?${query}`);
    for (const l of items) {
      console.log(
        [
          l.id,
          l.deadLetteredAt,
          l.code,
          l.originalTopic,
          l.jobId ?? '-',
          `replayed ${l.replayCount}x`,
          l.reason,
        ].join('\t'),
      );
    }
    if (items.length === 0) console.log('no dead letters');
  } else if (command === 'show' && args[0]) {
    console.log(
      JSON.stringify(await call('GET', `/v1/admin/dead-letters/${encodeURIComponent(args[0])}`), null, 2),
    );
  } else if (command === 'replay' && args.length > 0) {
    for (const id of args) {
      const r = await call('POST', `/v1/admin/dead-letters/${encodeURIComponent(id)}/replay`);
      console.log(`${r.id}\treplayed to ${r.replayedTo}\t(${r.replayCount} replay(s) so far)`);
    }
  } else {
    console.error(
      'usage: npm run dlq -- list [--stage <stage>] [--code <CODE>] [--pending] [--limit <n>] | show <id> | replay <id>...',
    );
    process.exit(2);
  }
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
