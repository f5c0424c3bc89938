// The lab format as JSON Schema, so editors (yaml-language-server) complete and
// check lab files. schema/lab.schema.json is generated from this by
// `node --import tsx scripts/gen-lab-schema.ts`; a test keeps the two equal.
import { z } from 'zod';
import { LabSchema } from './schema.ts';

export function labJsonSchema(): Record<string, unknown> {
  // The input side: what a person writes (defaults optional), not what loading returns.
  const schema = z.toJSONSchema(LabSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  const { $schema, ...rest } = schema;
  return {
    $schema,
    title: 'svclab Lab (svclab.dev/v1alpha1)',
    description: 'A Kubernetes service-networking lab: cluster, CNI, kube-proxy mode, manifests and a scenario.',
    ...rest,
  };
}

/** The committed file's exact text. */
export function renderLabJsonSchema(): string {
  return `${JSON.stringify(labJsonSchema(), null, 2)}\n`;
}
