import { Client } from 'pg';

export interface NotificationListenerOptions {
  url: string;
  channels: string[];
  onNotification: (channel: string, payload: string) => void;
  /** Told when the connection is lost; the listener reconnects by itself. */
  onError?: (error: unknown) => void;
  /** Called after each (re)connection: work notified while the connection was down must be looked for. */
  onConnected?: () => void;
}

/**
 * One PostgreSQL connection LISTENing on a few channels, reconnecting (with backoff up to 10 s)
 * when it is lost. NOTIFY is delivered at the notifying transaction's commit, to every listener.
 */
export class NotificationListener {
  private client?: Client;
  private stopped = false;
  private failures = 0;
  private retry?: NodeJS.Timeout;
  /** A client reports its loss once (an error event and a failed connect may both arrive). */
  private readonly lostClients = new WeakSet<Client>();

  constructor(private readonly options: NotificationListenerOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.options.url, connectionTimeoutMillis: 5_000 });
    client.on('notification', (n) => this.options.onNotification(n.channel, n.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN ${quoteChannel(channel)}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.options.onConnected?.();
  }

  private lost(client: Client, error: unknown): void {
    if (this.lostClients.has(client)) return;
    this.lostClients.add(client);
    if (this.client === client) this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.stopped) return;
    this.options.onError?.(error);
    this.failures++;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.connect(), Math.min(10_000, 250 * 2 ** (this.failures - 1)));
    this.retry.unref();
  }
}

function quoteChannel(name: string): string {
  return '"' + name.replace(/"/g, '""') + '"';
}
