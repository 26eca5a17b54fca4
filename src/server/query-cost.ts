// An upper estimate of how many objects a query can make the API load, before it runs: each
// field costs 1, and what is selected under a paginated field (one with a `first` argument)
// counts once per requested row. Lists without `first` (a subject's ROIs, a run's scores) are
// assumed to hold LIST_SIZE rows; a page's `edges` (a type with pageInfo) is already paid for by
// its `first`. Each root field (aliases included) and each `totalCount` is a database query of
// its own, whatever its page size, so each costs QUERY_COST: a thousand aliases of
// `runs(first: 0) { totalCount }` are a thousand COUNTs, not a thousand objects.
import {
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type FieldNode,
} from 'graphql';

export const LIST_SIZE = 10;
/** What `first: $variable` counts as when the variable has no default: the largest page. */
export const UNKNOWN_PAGE = 100;
/** What one database query counts as, in objects (a full page's worth). */
export const QUERY_COST = 100;

/** A Relay-style page (it has pageInfo): its edges were counted by the field that asked for it. */
const isConnection = (type: GraphQLNamedType) => isObjectType(type) && 'pageInfo' in type.getFields();

export function queryCost(schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: Map<string, FragmentDefinitionNode>, cap: number): number {
  const root = operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
  if (!root) return 0;
  const defaults = new Map<string, unknown>();
  for (const v of operation.variableDefinitions ?? []) if (v.defaultValue) defaults.set(v.variable.name.value, valueFromASTUntyped(v.defaultValue));

  const rowsOf = (node: FieldNode, def: GraphQLField<unknown, unknown> | undefined, parent: GraphQLNamedType): number => {
    const arg = node.arguments?.find((a) => a.name.value === 'first');
    if (arg) {
      const value = arg.value.kind === Kind.VARIABLE ? (defaults.get(arg.value.name.value) ?? UNKNOWN_PAGE) : valueFromASTUntyped(arg.value);
      return typeof value === 'number' && value >= 0 ? value : UNKNOWN_PAGE;
    }
    const schemaDefault = def?.args.find((a) => a.name === 'first')?.defaultValue;
    if (typeof schemaDefault === 'number') return schemaDefault;
    if (def && isListType(getNullableType(def.type))) return isConnection(parent) ? 1 : LIST_SIZE;
    return 1;
  };

  // Stops adding once past the cap, so a hostile query cannot make the estimate itself slow.
  // Under a connection only its lists (edges) repeat per requested row; totalCount and pageInfo
  // are asked once per connection.
  const walk = (set: SelectionSetNode, parent: GraphQLNamedType, seen: Set<string>, pageRows = 1): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (total > cap) return total;
      if (sel.kind === Kind.FIELD) {
        const def = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[sel.name.value] : undefined;
        const name = sel.name.value;
        const query = !name.startsWith('__') && (parent === root || (name === 'totalCount' && isConnection(parent)));
        total += query ? QUERY_COST : 1;
        if (sel.selectionSet && def) {
          const type = getNamedType(def.type);
          const rows = rowsOf(sel, def, parent);
          const perRow = isConnection(parent) && isListType(getNullableType(def.type)) ? pageRows : 1;
          total += isConnection(type) ? walk(sel.selectionSet, type, seen, rows) : perRow * rows * walk(sel.selectionSet, type, seen);
        }
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? parent) : parent;
        total += walk(sel.selectionSet, type, seen, pageRows);
      } else {
        const frag = fragments.get(sel.name.value);
        if (frag && !seen.has(frag.name.value))
          total += walk(frag.selectionSet, schema.getType(frag.typeCondition.name.value) ?? parent, new Set(seen).add(frag.name.value), pageRows);
      }
    }
    return total;
  };
  return walk(operation.selectionSet, root, new Set());
}
