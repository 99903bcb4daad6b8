import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { Secret } from './secret';

const EnvName = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name, e.g. TROUPE_OPENAI_API_KEY');

export const ProviderSpecSchema = z
  .object({
    /** `openai`: any OpenAI-compatible Chat Completions endpoint; `anthropic`: the Messages API; `local`: in-process. */
    kind: z.enum(['openai', 'anthropic', 'local']),
    /** e.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama), `https://api.anthropic.com`. */
    baseUrl: z.string().url().optional(),
    /** Overrides `baseUrl` when that variable is set (point a deployment elsewhere without editing the file). */
    baseUrlEnv: EnvName.optional(),
    /** The *name* of the variable holding the key; the catalogue never holds a key itself. */
    apiKeyEnv: EnvName.optional(),
    /** Extra request headers (e.g. `OpenAI-Organization`); not for secrets. */
    headers: z.record(z.string(), z.string()).default({}),
    /**
     * How the key is sent: `bearer` (`Authorization: Bearer`, OpenAI and compatibles), `api-key`
     * (Azure OpenAI), `x-api-key` (Anthropic, the default for `kind: anthropic`).
     */
    apiKeyHeader: z.enum(['bearer', 'api-key', 'x-api-key']).optional(),
    /** Query parameters added to every call, e.g. Azure's `{ api-version: 2024-10-21 }`. */
    query: z.record(z.string(), z.string()).default({}),
    /** Calls in flight to this provider at once (bulkhead); more wait in a queue of `maxQueue`. */
    maxConcurrency: z.number().int().positive().default(32),
    maxQueue: z.number().int().nonnegative().default(1000),
    /** Per-call timeout. */
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.kind !== 'local' && !p.baseUrl && !p.baseUrlEnv) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['baseUrl'],
        message: `a ${p.kind} provider needs baseUrl or baseUrlEnv`,
      });
    }
  });
export type ProviderSpec = z.infer<typeof ProviderSpecSchema>;

export const ModelSpecSchema = z
  .object({
    /** The provider's own model id; defaults to the part of the reference after `<provider>/`. */
    model: z.string().min(1).optional(),
    capabilities: z
      .object({
        json: z.boolean().default(false),
        vision: z.boolean().default(false),
        contextTokens: z.number().int().positive().default(8_192),
        maxOutputTokens: z.number().int().positive().default(1_024),
      })
      .strict()
      .default({}),
    /** USD per million tokens. */
    price: z
      .object({ inputPerMTok: z.number().nonnegative(), outputPerMTok: z.number().nonnegative() })
      .strict()
      .default({ inputPerMTok: 0, outputPerMTok: 0 }),
    latencyTier: z.enum(['instant', 'fast', 'standard', 'slow']).default('standard'),
  })
  .strict();
export type ModelSpec = z.infer<typeof ModelSpecSchema>;

const ModelRef = z.string().regex(/^[a-z0-9-]+\/[A-Za-z0-9._:\-/]+$/, 'expected <provider>/<model>');

export const ModelCatalogueSchema = z
  .object({
    providers: z.record(z.string().regex(/^[a-z0-9-]+$/), ProviderSpecSchema),
    /** Keyed by `<provider>/<name>`, the reference workflows use. */
    models: z.record(ModelRef, ModelSpecSchema),
  })
  .strict()
  .superRefine((c, ctx) => {
    for (const ref of Object.keys(c.models)) {
      const provider = ref.slice(0, ref.indexOf('/'));
      if (!(provider in c.providers)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['models', ref],
          message: `no provider named ${provider}`,
        });
      }
    }
  });
export type ModelCatalogueFile = z.infer<typeof ModelCatalogueSchema>;

export interface ResolvedProvider extends ProviderSpec {
  name: string;
  baseUrl?: string;
  /** Absent when `apiKeyEnv` is unset in this environment: the provider is then not configured. */
  apiKey?: Secret;
  /** Why the provider cannot be called here, if it cannot. */
  unavailableReason?: string;
}

export interface ResolvedModel extends ModelSpec {
  ref: string;
  provider: ResolvedProvider;
  model: string;
}

export class ModelCatalogueError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelCatalogueError';
  }
}

/** The validated catalogue with keys resolved from the environment. */
export class ModelCatalogue {
  private constructor(
    readonly providers: Map<string, ResolvedProvider>,
    readonly models: Map<string, ResolvedModel>,
  ) {}

  static fromObject(
    raw: unknown,
    env: NodeJS.ProcessEnv = process.env,
    source = 'model catalogue',
  ): ModelCatalogue {
    const parsed = ModelCatalogueSchema.safeParse(raw);
    if (!parsed.success) {
      const problems = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new ModelCatalogueError(`${source} is invalid: ${problems}`);
    }
    const providers = new Map<string, ResolvedProvider>();
    for (const [name, spec] of Object.entries(parsed.data.providers)) {
      const baseUrl = (spec.baseUrlEnv && env[spec.baseUrlEnv]) || spec.baseUrl;
      const key = spec.apiKeyEnv ? env[spec.apiKeyEnv] : undefined;
      let unavailableReason: string | undefined;
      if (spec.kind !== 'local' && !baseUrl) unavailableReason = `${spec.baseUrlEnv} is not set`;
      else if (spec.apiKeyEnv && !key)
        unavailableReason = `provider ${name} has no API key (${spec.apiKeyEnv} is not set)`;
      providers.set(name, {
        ...spec,
        name,
        baseUrl: baseUrl?.replace(/\/+$/, ''),
        apiKey: key ? new Secret(key) : undefined,
        unavailableReason,
      });
    }
    const models = new Map<string, ResolvedModel>();
    for (const [ref, spec] of Object.entries(parsed.data.models)) {
      const slash = ref.indexOf('/');
      models.set(ref, {
        ...spec,
        ref,
        provider: providers.get(ref.slice(0, slash))!,
        model: spec.model ?? ref.slice(slash + 1),
      });
    }
    return new ModelCatalogue(providers, models);
  }

  /** Reads and validates a YAML or JSON file; throws naming the file and every problem. */
  static load(path: string, env: NodeJS.ProcessEnv = process.env): ModelCatalogue {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ModelCatalogueError(`cannot read model catalogue ${path}: ${(error as Error).message}`);
    }
    let raw: unknown;
    try {
      raw = parse(text);
    } catch (error) {
      throw new ModelCatalogueError(`model catalogue ${path} is not valid YAML: ${(error as Error).message}`);
    }
    return ModelCatalogue.fromObject(raw, env, `model catalogue ${path}`);
  }

  get(ref: string): ResolvedModel | undefined {
    return this.models.get(ref);
  }

  /** References in `refs` the catalogue does not know (for checking workflows against it). */
  unknown(refs: Iterable<string>): string[] {
    return [...new Set(refs)].filter((r) => !this.models.has(r));
  }
}
