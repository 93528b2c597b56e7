import {
  getNamedType, GraphQLInt, isCompositeType, isLeafType, valueFromAST,
  type FieldNode, type FragmentDefinitionNode, type GraphQLCompositeType, type GraphQLField, type GraphQLSchema,
  type OperationDefinitionNode, type SelectionSetNode,
} from 'graphql';

/**
 * Shopify's cost model, simply: scalars and enums 0, objects 1, connections 2 + size × item cost
 * (size = first/last when requesting, the number returned when settling), each mutation field 10.
 */
export interface CostInput {
  schema: GraphQLSchema;
  operation: OperationDefinitionNode;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

type Data = Record<string, unknown> | null | undefined;

export const MUTATION_COST = 10;

export function requestedCost(input: CostInput): number {
  return operationCost(input, undefined);
}

export function actualCost(input: CostInput, data: Data): number {
  return operationCost(input, data ?? null);
}

function operationCost(input: CostInput, data: Data | undefined): number {
  const root = input.operation.operation === 'mutation' ? input.schema.getMutationType() : input.schema.getQueryType();
  if (!root) return 0;
  if (input.operation.operation === 'mutation') {
    // Fields that failed before running (e.g. throttled) are not charged when settling.
    return collectFields(input, input.operation.selectionSet, root).reduce((s, f) => {
      if (data === undefined) return s + MUTATION_COST;
      return s + (data !== null && data[f.node.alias?.value ?? f.node.name.value] !== undefined ? MUTATION_COST : 0);
    }, 0);
  }
  return selectionCost(input, input.operation.selectionSet, root, data);
}

interface Collected { node: FieldNode; parent: GraphQLCompositeType }

function collectFields(input: CostInput, set: SelectionSetNode, parent: GraphQLCompositeType, out: Collected[] = []): Collected[] {
  for (const sel of set.selections) {
    if (sel.kind === 'Field') out.push({ node: sel, parent });
    else if (sel.kind === 'InlineFragment') {
      const t = sel.typeCondition ? input.schema.getType(sel.typeCondition.name.value) : parent;
      if (t && isCompositeType(t)) collectFields(input, sel.selectionSet, t, out);
    } else {
      const frag = input.fragments[sel.name.value];
      const t = frag && input.schema.getType(frag.typeCondition.name.value);
      if (frag && t && isCompositeType(t)) collectFields(input, frag.selectionSet, t, out);
    }
  }
  return out;
}

function fieldDef(parent: GraphQLCompositeType, name: string): GraphQLField<unknown, unknown> | undefined {
  return 'getFields' in parent ? parent.getFields()[name] : undefined;
}

function selectionCost(input: CostInput, set: SelectionSetNode, parent: GraphQLCompositeType, data: Data | undefined): number {
  let total = 0;
  for (const { node, parent: p } of collectFields(input, set, parent)) {
    const def = fieldDef(p, node.name.value);
    if (!def || !node.selectionSet) continue;
    const type = getNamedType(def.type);
    if (isLeafType(type) || !isCompositeType(type)) continue;
    const key = node.alias?.value ?? node.name.value;
    const value = data === undefined ? undefined : (data?.[key] as unknown);
    if (type.name.endsWith('Connection')) total += connectionCost(input, node, type, value as Data | undefined);
    else if (Array.isArray(value)) {
      const sub = node.selectionSet;
      total += 1 + value.reduce((s: number, v) => s + selectionCost(input, sub, type, v as Data), 0);
    }
    else total += 1 + selectionCost(input, node.selectionSet, type, value as Data | undefined);
  }
  return total;
}

function connectionCost(input: CostInput, node: FieldNode, type: GraphQLCompositeType, value: Data | undefined): number {
  const itemSets: { set: SelectionSetNode; type: GraphQLCompositeType; path: 'edges' | 'nodes' }[] = [];
  for (const { node: f, parent } of collectFields(input, node.selectionSet!, type)) {
    if ((f.name.value !== 'edges' && f.name.value !== 'nodes') || !f.selectionSet) continue;
    const def = fieldDef(parent, f.name.value);
    const itemType = def && getNamedType(def.type);
    if (!itemType || !isCompositeType(itemType)) continue;
    if (f.name.value === 'nodes') itemSets.push({ set: f.selectionSet, type: itemType, path: 'nodes' });
    else {
      for (const { node: n, parent: ep } of collectFields(input, f.selectionSet, itemType)) {
        const nd = n.name.value === 'node' && n.selectionSet ? fieldDef(ep, 'node') : undefined;
        const nt = nd && getNamedType(nd.type);
        if (nt && isCompositeType(nt)) itemSets.push({ set: n.selectionSet!, type: nt, path: 'edges' });
      }
    }
  }
  if (value === undefined) {
    const size = pageSize(input, node);
    const item = Math.max(0, ...itemSets.map((s) => 1 + selectionCost(input, s.set, s.type, undefined)));
    return 2 + size * item;
  }
  if (value === null) return 2;
  const edges = (value.edges as { node?: Data }[] | undefined) ?? [];
  const nodes = (value.nodes as Data[] | undefined) ?? [];
  const count = Math.max(edges.length, nodes.length);
  let items = 0;
  for (let i = 0; i < count; i++) {
    items += Math.max(0, ...itemSets.map((s) => 1 + selectionCost(input, s.set, s.type, s.path === 'nodes' ? nodes[i] : edges[i]?.node)));
  }
  return 2 + items;
}

function pageSize(input: CostInput, node: FieldNode): number {
  for (const name of ['first', 'last']) {
    const arg = node.arguments?.find((a) => a.name.value === name);
    if (!arg) continue;
    const v = valueFromAST(arg.value, GraphQLInt, input.variables);
    if (typeof v === 'number' && v > 0) return v;
  }
  return 0;
}
