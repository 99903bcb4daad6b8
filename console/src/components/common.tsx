export const usd = (n: number | undefined | null) => (n === undefined || n === null ? '—' : `$${n < 0.01 ? n.toFixed(6) : n.toFixed(4)}`);
export const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${Math.round(n)} ms`);
export const time = (iso: string) => new Date(iso).toLocaleString();

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{value.replace('_', ' ')}</span>;
}

export function ErrorNote({ error }: { error?: Error }) {
  return error ? <p className="error" role="alert">{error.message}</p> : null;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{JSON.stringify(value, null, 2)}</pre>;
}
