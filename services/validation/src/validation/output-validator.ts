/** The workflow output's JSON Schema check, shared with generation's per-step schemas. */
export { JsonSchemaValidator as OutputValidator } from '@troupe/workflow';
