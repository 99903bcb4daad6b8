// An example webhook receiver, as a customer would write one: it verifies every delivery's
// Standard Webhooks signature, acknowledges with 2xx, and ignores a webhook-id it has seen.
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const port = Number(process.env.TROUPE_RECEIVER_PORT ?? 4000);
const secret = (process.env.TROUPE_WEBHOOK_SECRETS ?? '').split(',').map((s) => s.trim().split('=').slice(1).join('='))[0];
if (!secret) throw new Error('TROUPE_WEBHOOK_SECRETS is not set');
const webhook = new Webhook(secret);
const seen = new Set();

http
  .createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/webhooks') return res.writeHead(404).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const event = webhook.verify(body, req.headers);
        const id = req.headers['webhook-id'];
        const duplicate = seen.has(id);
        seen.add(id);
        console.log(JSON.stringify({ verified: true, duplicate, webhookId: id, type: event.type, data: event.data }));
        res.writeHead(204).end();
      } catch (error) {
        console.log(JSON.stringify({ verified: false, error: error.message }));
        res.writeHead(400).end();
      }
    });
  })
  .listen(port, '127.0.0.1', () => console.log(`example receiver on http://127.0.0.1:${port}/webhooks`));
