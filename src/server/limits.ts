// Query-shape limits checked before execution, so one request cannot make the API walk the whole
// catalog: nesting depth and the number of fields selected (aliases and fragments included).
import { GraphQLError, Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import { LIST_SIZE, QUERY_COST, queryCost } from './query-cost';

export interface QueryLimits {
  maxDepth: number;
  maxFields: number;
  /** Estimated objects loaded (src/server/query-cost.ts). */
  maxCost: number;
}

export const DEFAULT_LIMITS: QueryLimits = { maxDepth: 12, maxFields: 2000, maxCost: 100_000 };

export const isQueryLimit = (limit: unknown): limit is keyof QueryLimits => limit === 'maxDepth' || limit === 'maxFields' || limit === 'maxCost';

/** A graphql-js validation rule refusing operations deeper or wider than the limits. */
export function queryLimitsRule(limits: QueryLimits = DEFAULT_LIMITS) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    return {
      OperationDefinition(node) {
        let fields = 0;
        let deepest = 0;
        const walk = (set: SelectionSetNode, depth: number, seen: Set<string>) => {
          deepest = Math.max(deepest, depth);
          if (depth > limits.maxDepth || fields > limits.maxFields) return;
          for (const sel of set.selections) {
            if (sel.kind === Kind.FIELD) {
              fields++;
              if (sel.selectionSet) walk(sel.selectionSet, depth + 1, seen);
            } else if (sel.kind === Kind.INLINE_FRAGMENT) {
              walk(sel.selectionSet, depth, seen);
            } else {
              const frag = fragments.get(sel.name.value);
              // Fragment cycles are reported by graphql-js's own rule; just do not loop here.
              if (frag && !seen.has(frag.name.value)) walk(frag.selectionSet, depth, new Set(seen).add(frag.name.value));
            }
          }
        };
        walk(node.selectionSet, 1, new Set());
        if (deepest > limits.maxDepth)
          context.reportError(
            new GraphQLError(`The query nests more than ${limits.maxDepth} levels deep; split it into several requests`, {
              nodes: [node],
              extensions: { limit: 'maxDepth', max: limits.maxDepth },
            }),
          );
        if (fields > limits.maxFields)
          context.reportError(
            new GraphQLError(`The query selects more than ${limits.maxFields} fields; request fewer fields or page through results`, {
              nodes: [node],
              extensions: { limit: 'maxFields', max: limits.maxFields },
            }),
          );
        if (deepest > limits.maxDepth || fields > limits.maxFields) return;
        const cost = queryCost(context.getSchema(), node, fragments, limits.maxCost);
        if (cost > limits.maxCost)
          context.reportError(
            new GraphQLError(
              `The query's estimated cost is at least ${cost} objects (what a paginated field selects counts once per \`first\` row, under other lists ${LIST_SIZE} times; each root field, alias and totalCount is a query worth ${QUERY_COST}); the limit is ${limits.maxCost}. Ask for smaller pages, fewer nested lists or fewer aliases`,
              { nodes: [node], extensions: { limit: 'maxCost', max: limits.maxCost, cost } },
            ),
          );
      },
    };
  };
}
