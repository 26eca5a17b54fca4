// Runs: list, detail with scores and outputs, cancel and resubmit.
export const RunsDoc = /* GraphQL */ `
  query Runs($first: Int, $after: String, $filter: RunFilter) {
    runs(first: $first, after: $after, filter: $filter, newestFirst: true) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node { id kind title layer model { id name } subject { id name } dataset { id name } status progress progressMessage createdAt finishedAt error { code message } }
      }
    }
  }
`;

export const RunDoc = /* GraphQL */ `
  query Run($id: ID!) {
    run(id: $id) {
      id
      kind
      title
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

// The compare view: one query per run, what the side-by-side needs.
export const CompareRunDoc = /* GraphQL */ `
  query CompareRun($id: ID!) {
    run(id: $id) {
      id
      kind
      title
      status
      params
      createdAt
      scores { id metric scope value ciLow ciHigh n }
    }
  }
`;
