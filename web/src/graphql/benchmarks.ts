// Benchmarks and leaderboards.
export const BenchmarksDoc = /* GraphQL */ `
  query Benchmarks {
    benchmarks {
      id
      name
      kind
      description
      metric
      higherIsBetter
      dataset { id name }
    }
  }
`;

export const BenchmarkDoc = /* GraphQL */ `
  query Benchmark($id: ID!) {
    benchmark(id: $id) {
      id
      name
      kind
      description
      metric
      higherIsBetter
      dataset { id name subjects { id name rois { id name } } }
      vqa { nQuestions categories { name nQuestions } }
    }
  }
`;

export const LeaderboardDoc = /* GraphQL */ `
  query Leaderboard(
    $benchmarkId: ID!
    $metric: String
    $roi: String
    $category: String
    $rankBy: LeaderboardValue
    $filter: LeaderboardFilter
    $first: Int
    $after: String
  ) {
    leaderboard(
      benchmarkId: $benchmarkId
      metric: $metric
      roi: $roi
      category: $category
      rankBy: $rankBy
      filter: $filter
      first: $first
      after: $after
    ) {
      metric
      scope
      rankBy
      tieRule
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          rank
          tied
          rankedValue
          value
          ciLow
          ciHigh
          normalized
          site
          run { id kind }
          model { id name family }
          subject { id name }
        }
      }
    }
  }
`;
