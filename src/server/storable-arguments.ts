// One boundary check for every argument of every operation: text that PostgreSQL cannot store is
// refused before any resolver runs, as BAD_USER_INPUT naming the argument's path
// (`input.items[3].caption`). Arguments are read as execution will see them (variables coerced,
// literals and defaults filled in), at every depth of the selection, through fragments.
import type { ApolloServerPlugin } from '@apollo/server';
import {
  getArgumentValues,
  GraphQLError,
  getNamedType,
  getNullableType,
  getVariableValues,
  isCompositeType,
  isInputObjectType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { DomainContext } from '../domain/context';
import { badInput } from '../errors';
import { checkStorableText } from '../text/storable-text';

/**
 * No String or ID argument is a document: names, captions, keys and descriptions are far shorter,
 * and bulk data travels as artifacts. Fields with their own, smaller limit check it themselves.
 * (JSON arguments, such as a site bundle, are bounded by the request size instead.)
 */
export const MAX_ARGUMENT_CHARS = 100_000;

export function storableArguments(): ApolloServerPlugin<DomainContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
          // Variables that do not coerce are reported by execution with graphql-js's own message.
          if (coerced.errors) return;
          const root =
            operation.operation === 'mutation' ? schema.getMutationType() : operation.operation === 'subscription' ? schema.getSubscriptionType() : schema.getQueryType();
          if (!root) return;
          const fragments = new Map<string, FragmentDefinitionNode>();
          for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
          try {
            checkSelection(schema, root, operation.selectionSet, coerced.coerced, fragments, new Set());
          } catch (err) {
            // Refused before execution: a client error (HTTP 400), like a variable that does not coerce.
            if (err instanceof GraphQLError) throw new GraphQLError(err.message, { extensions: { ...err.extensions, http: { status: 400 } } });
            throw err;
          }
        },
      };
    },
  };
}

function checkSelection(
  schema: GraphQLSchema,
  parent: GraphQLCompositeType,
  selectionSet: SelectionSetNode,
  variables: Record<string, unknown>,
  fragments: Map<string, FragmentDefinitionNode>,
  seenFragments: Set<string>,
): void {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const field = isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[selection.name.value] : undefined;
      if (!field) continue;
      if (field.args.length > 0) {
        const args = getArgumentValues(field, selection, variables);
        for (const arg of field.args) if (arg.name in args) checkValue(args[arg.name], arg.type, arg.name);
      }
      const inner = getNamedType(field.type);
      if (selection.selectionSet && isCompositeType(inner)) checkSelection(schema, inner, selection.selectionSet, variables, fragments, seenFragments);
    } else {
      let typeName: string | undefined;
      let set: SelectionSetNode;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        typeName = selection.typeCondition?.name.value;
        set = selection.selectionSet;
      } else {
        const fragment = fragments.get(selection.name.value);
        if (!fragment || seenFragments.has(fragment.name.value)) continue;
        seenFragments = new Set(seenFragments).add(fragment.name.value);
        typeName = fragment.typeCondition.name.value;
        set = fragment.selectionSet;
      }
      const type = typeName ? schema.getType(typeName) : parent;
      if (type && isCompositeType(type)) checkSelection(schema, type, set, variables, fragments, seenFragments);
    }
  }
}

/** Walks a coerced argument value along its input type; every scalar (String, ID, JSON) is checked. */
function checkValue(value: unknown, type: GraphQLInputType, path: string): void {
  if (value === null || value === undefined) return;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return checkValue(value, nullable.ofType, path);
    for (let i = 0; i < value.length; i++) checkValue(value[i], nullable.ofType, `${path}[${i}]`);
    return;
  }
  if (isInputObjectType(nullable)) {
    const fields = nullable.getFields();
    for (const [name, inner] of Object.entries(value as Record<string, unknown>)) {
      const def = fields[name];
      if (def) checkValue(inner, def.type, `${path}.${name}`);
    }
    return;
  }
  // Enums are fixed names; DateTime and BigInt arrive as Date and bigint and pass untouched.
  if (typeof value === 'string' && value.length > MAX_ARGUMENT_CHARS && (nullable.name === 'String' || nullable.name === 'ID'))
    throw badInput(`${path} is longer than ${MAX_ARGUMENT_CHARS} characters (got ${value.length}); upload large data as artifacts (createArtifactUpload)`, path);
  checkStorableText(value, path);
}
