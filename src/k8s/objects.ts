// The Kubernetes object model used everywhere: the upstream API types (from
// kubernetes-types) plus the few helpers every layer needs. One definition, so
// the control plane, the proxy and `proxy render` read the same shapes.
import type { Service, Pod, Node as K8sNode, Namespace } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

export type { Service, Pod, K8sNode, Namespace, EndpointSlice, Deployment, ObjectMeta };
export type { ServicePort, ServiceSpec, PodSpec, Container } from 'kubernetes-types/core/v1.js';
export type { Endpoint, EndpointPort } from 'kubernetes-types/discovery/v1.js';

/** networking.k8s.io/v1 ServiceCIDR (GA in 1.33; newer than kubernetes-types 1.30). */
export interface ServiceCIDR {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'ServiceCIDR';
  metadata: ObjectMeta;
  spec: { cidrs: string[] };
}

export type KubeObject = Service | EndpointSlice | Pod | Deployment | K8sNode | Namespace | ServiceCIDR;

/** The resource kinds the lab control plane serves, keyed by kind. */
export const RESOURCES = {
  Service: { apiVersion: 'v1', plural: 'services', namespaced: true },
  Pod: { apiVersion: 'v1', plural: 'pods', namespaced: true },
  Node: { apiVersion: 'v1', plural: 'nodes', namespaced: false },
  Namespace: { apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  EndpointSlice: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', plural: 'deployments', namespaced: true },
  ServiceCIDR: { apiVersion: 'networking.k8s.io/v1', plural: 'servicecidrs', namespaced: false },
} as const;
export type ResourceKind = keyof typeof RESOURCES;

/** "deployment.apps", "service", "endpointslice.discovery.k8s.io": how kubectl names a kind in output. */
export function kindGroup(kind: string): string {
  const api = (RESOURCES as Record<string, { apiVersion: string }>)[kind]?.apiVersion ?? 'v1';
  const group = api.includes('/') ? api.split('/')[0] : '';
  return `${kind.toLowerCase()}${group ? `.${group}` : ''}`;
}

/** "namespace/name" — the key upstream calls NamespacedName. */
export function namespacedName(meta: ObjectMeta | undefined): string {
  return `${meta?.namespace ?? 'default'}/${meta?.name ?? ''}`;
}

/** Watch event as the apiserver streams it (one JSON object per line). */
export interface WatchEvent<T = KubeObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** A list response: kind "<Kind>List" with metadata.resourceVersion. */
export interface KubeList<T = KubeObject> {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: T[];
}
