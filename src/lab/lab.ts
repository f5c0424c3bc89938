// A loaded lab: the checked spec with its resolved layout and the objects of its
// apply steps. Its own module because both the loader and `reconfigureLab`
// (which derives one lab from another) produce it, and neither should import the other for it.
import type { KubeObject } from '../k8s/objects.ts';
import type { LabLayout } from './layout.ts';
import type { LabSpec } from './schema.ts';
import type { YamlSource } from './source.ts';

export interface Lab {
  file: string;
  name: string;
  spec: LabSpec;
  layout: LabLayout;
  warnings: string[];
  /** Objects of each `apply` step's `file:`, keyed by the path as written in the step. */
  files: Record<string, KubeObject[]>;
  /** The parsed file, for locating later checks (an exercise's steps against this lab's manifests). */
  source?: YamlSource;
}
