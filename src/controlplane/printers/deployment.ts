// Deployments as `kubectl get deploy` shows them: READY "ready/desired",
// UP-TO-DATE, AVAILABLE, and with -o wide CONTAINERS, IMAGES, SELECTOR.
// Upstream's printDeployment.
import type { KObj } from '../store.ts';
import { FIELD_DOCS } from './field-docs.ts';
import { AGE_COLUMN, NAME_COLUMN, containerCells, formatSelector, since } from './format.ts';
import { column, type KindPrinter, type PrintedRow } from './types.ts';

function deploymentRow(d: KObj, now: Date): PrintedRow {
  // Printed as stored (the strategy defaults spec.replicas to 1); unset is 0, as upstream's ptr.Deref.
  const desired: number = d.spec?.replicas ?? 0;
  const st = d.status ?? {};
  const [names, images] = containerCells(d.spec?.template?.spec?.containers);
  return {
    cells: [d.metadata.name ?? '', `${st.readyReplicas ?? 0}/${desired}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, since(d.metadata.creationTimestamp, now), names, images, formatSelector(d.spec?.selector)],
  };
}

export const deploymentPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', FIELD_DOCS['DeploymentStatus.updatedReplicas']),
    column('Available', 'string', FIELD_DOCS['DeploymentStatus.availableReplicas']),
    AGE_COLUMN,
    column('Containers', 'string', 'Names of each container in the template.', { priority: 1 }),
    column('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 }),
    column('Selector', 'string', FIELD_DOCS['DeploymentSpec.selector'], { priority: 1 }),
  ],
  row: deploymentRow,
};
