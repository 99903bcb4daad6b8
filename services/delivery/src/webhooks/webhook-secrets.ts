/**
 * Signing secrets per tenant from `TROUPE_WEBHOOK_SECRETS` (`<tenant>=whsec_<base64>`, `*` for the
 * rest). Secrets stay in this service: they are never put in events, logs or traces.
 */
export class WebhookSecrets {
  private readonly byTenant = new Map<string, string>();

  constructor(spec: string) {
    for (const [index, raw] of spec.split(',').entries()) {
      const entry = raw.trim();
      if (!entry) continue;
      const eq = entry.indexOf('=');
      const tenant = entry.slice(0, eq).trim();
      const secret = entry.slice(eq + 1).trim();
      if (eq <= 0 || !/^whsec_[A-Za-z0-9+/=]{16,}$/.test(secret)) {
        throw new Error(`TROUPE_WEBHOOK_SECRETS entry ${index + 1}: expected <tenant>=whsec_<base64>`);
      }
      this.byTenant.set(tenant, secret);
    }
    if (this.byTenant.size === 0) throw new Error('TROUPE_WEBHOOK_SECRETS: no secrets configured');
  }

  forTenant(tenantId: string): string | undefined {
    return this.byTenant.get(tenantId) ?? this.byTenant.get('*');
  }
}
