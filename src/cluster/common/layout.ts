// The lab loader's layout names the lab `name`; the drivers' own functions
// (and their tests) say `lab`. Both drivers take either, through this.

/** A layout as the drivers' own functions take it. */
export interface LabNetworkLayout<Node> {
  lab: string;
  nodeNetwork: string;
  gateway: string;
  nodes: Node[];
  external: { name: string; ip: string };
}

/** The same, as the lab loader (the LabDriver contract) hands it over. */
export interface NamedNetworkLayout<Node> {
  readonly name: string;
  readonly nodeNetwork: string;
  readonly gateway: string;
  readonly nodes: readonly Node[];
  readonly external: { name: string; ip: string };
}

export type LayoutInput<Node> = LabNetworkLayout<Node> | NamedNetworkLayout<Node>;

export function toLabNetworkLayout<Node>(layout: LayoutInput<Node>): LabNetworkLayout<Node> {
  if ('lab' in layout) return layout;
  const { name, nodeNetwork, gateway, nodes, external } = layout;
  return { lab: name, nodeNetwork, gateway, nodes: [...nodes], external };
}
