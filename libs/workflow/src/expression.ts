import jsonata from 'jsonata';

/**
 * What an expression can read. The same object is the input document and the variables, so
 * `$input.text` and `input.text` mean the same.
 */
export interface ExpressionScope {
  input: { text: string };
  classification?: unknown;
  metadata: Record<string, string>;
  /** Only the steps upstream of the one being evaluated (all of them for `output.from`). */
  steps: Record<string, { status: string; output?: unknown }>;
}

/**
 * Guardrails of every evaluation: a runaway expression fails (D1012 timeout, D1011 depth, D2015
 * sequence length) instead of holding the step executor.
 */
export const EXPRESSION_LIMITS = { timeout: 250, stack: 300, sequence: 100_000 } as const;

/** An expression that does not parse, or failed when evaluated. */
export class ExpressionError extends Error {
  constructor(
    readonly source: string,
    message: string,
    /** Character offset in the source, when JSONata gives one. */
    readonly position?: number,
  ) {
    super(message);
    this.name = 'ExpressionError';
  }
}

interface JsonataFailure {
  code?: string;
  message?: string;
  position?: number;
  token?: string;
}

function describe(error: unknown): { message: string; position?: number } {
  const e = error as JsonataFailure;
  const message = e?.message ?? String(error);
  return { message: e?.code ? `${e.code}: ${message}` : message, position: e?.position };
}

type Node = Record<string, unknown>;

/**
 * A JSONata expression from a workflow file (https://jsonata.org): parsed once, evaluated in its
 * sandbox: it cannot run JavaScript, reach the network or the file system. `$eval` is disabled, so
 * a job's input can never be evaluated as an expression: user data stays data.
 */
export class Expression {
  private readonly compiled: jsonata.Expression;

  constructor(readonly source: string) {
    try {
      this.compiled = jsonata(source, { ...EXPRESSION_LIMITS });
    } catch (error) {
      const { message, position } = describe(error);
      throw new ExpressionError(source, message, position);
    }
    const errors = (this.compiled as unknown as { errors?: () => unknown[] | undefined }).errors?.();
    if (errors?.length) {
      const { message, position } = describe(errors[0]);
      throw new ExpressionError(source, message, position);
    }
    this.compiled.registerFunction('eval', () => {
      throw { code: 'T3000', message: '$eval is disabled in Troupe workflows' };
    });
  }

  /** The value, made plain JSON (JSONata marks its sequences; `undefined` becomes absent). */
  async evaluate(scope: ExpressionScope): Promise<unknown> {
    let value: unknown;
    try {
      value = await this.compiled.evaluate(scope, scope as unknown as Record<string, unknown>);
    } catch (error) {
      const { message, position } = describe(error);
      throw new ExpressionError(this.source, message, position);
    }
    if (value === undefined) return undefined;
    if (typeof value === 'function') throw new ExpressionError(this.source, 'the expression gives a function, not a value');
    return value !== null && typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : value;
  }

  /** The step ids it reads with `$steps.<id>` or `steps.<id>`, in order of appearance. */
  stepReferences(): string[] {
    const found = new Set<string>();
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(visit);
      if (!node || typeof node !== 'object') return;
      const n = node as Node;
      if (n.type === 'path' && Array.isArray(n.steps)) {
        const [head, next] = n.steps as Node[];
        const isSteps = head && head.value === 'steps' && (head.type === 'variable' || head.type === 'name');
        if (isSteps && next?.type === 'name' && typeof next.value === 'string') found.add(next.value);
      }
      for (const value of Object.values(n)) if (value && typeof value === 'object') visit(value);
    };
    visit(this.compiled.ast());
    return [...found];
  }
}
