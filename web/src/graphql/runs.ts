// Runs: list, detail with scores and outputs, cancel and resubmit.
export const RunsDoc = /* GraphQL */ `
  query Runs($first: Int, $after: String, $filter: RunFilter) {
    runs(first: $first, after: $after, filter: $filter) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node { id kind status progress progressMessage createdAt finishedAt error { code message } }
      }
    }
  }
`;

export const RunDoc = /* GraphQL */ `
  query Run($id: ID!) {
    run(id: $id) {
      id
      kind
      status
      params
      progress
      progressMessage
      error { code message details }
      attempts
      provenance
      createdAt
      startedAt
      finishedAt
      outputs { name artifact { id dtype shape size downloadUrl } }
      scores { id metric scope value ciLow ciHigh normalized n extra }
      parent { id kind }
    }
  }
`;

export const CancelRunDoc = /* GraphQL */ `
  mutation CancelRun($id: ID!) {
    cancelRun(id: $id) { id status }
  }
`;

export const ResubmitEncodingRidgeDoc = /* GraphQL */ `
  mutation ResubmitEncodingRidge($input: EncodingRidgeInput!) {
    submitEncodingRidge(input: $input) { id status }
  }
`;
